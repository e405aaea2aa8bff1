"""Shared fixtures: the shipped content, loaded once."""

from __future__ import annotations

import pytest

from bot.flow import Flow, load_flow


@pytest.fixture(scope="session")
def flow() -> Flow:
    return load_flow()


@pytest.fixture(scope="session")
def content():
    from bot.content import load_content

    return load_content()
