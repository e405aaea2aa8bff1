"""Shared fixtures: the shipped content, loaded once."""

from __future__ import annotations

import pytest

from bot.flow import Flow, load_flow


@pytest.fixture(scope="session")
def flow() -> Flow:
    return load_flow()


@pytest.fixture
def flows(tmp_path):
    """A copy of the shipped flows that a test may edit (tests/flow_copies.py)."""
    from flow_copies import copy_flows

    return copy_flows(tmp_path)


@pytest.fixture(scope="session")
def content():
    from bot.content import load_content

    return load_content()
