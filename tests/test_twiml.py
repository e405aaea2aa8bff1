"""Our TwiML answer is the very document the twilio library would write for the same replies:
every text of every catalog, and the characters XML must escape."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from twilio.twiml.messaging_response import MessagingResponse

from bot.web import twiml

CATALOGS = sorted(Path(__file__).parent.parent.glob("translations/*/LC_MESSAGES/messages.po"))
AWKWARD = ["Tom & Jerry <3 > you", 'she said "yes" and \'no\'', "line one\nline two\r\n",
           "]]> <!-- not a comment -->", "tab\there", "😀 đúng ਪੰਜਾਬੀ हिंदी", "&amp; already"]


def library_twiml(replies: list[str]) -> bytes:
    response = MessagingResponse()
    for reply in replies:
        response.message(reply)
    return str(response).encode()


def ours(replies: list[str]) -> bytes:
    with Flask(__name__).test_request_context():
        return twiml(replies).get_data()


def catalog_texts(path: Path) -> list[str]:
    """The catalog's translations and their English sources."""
    with path.open("rb") as file:
        messages = [message for message in read_po(file) if message.id and message.string]
    return [text for message in messages for text in (message.string, message.id)]


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.parts[-3])
def test_every_catalog_text_is_answered_as_the_twilio_library_writes_it(catalog):
    texts = catalog_texts(catalog)
    assert texts
    for text in texts:
        assert ours([text]) == library_twiml([text])
    assert ours(texts[:3]) == library_twiml(texts[:3])


@pytest.mark.parametrize("replies", [[], [""], AWKWARD, *([text] for text in AWKWARD)])
def test_characters_xml_escapes_and_empty_answers_match_the_library(replies):
    assert ours(replies) == library_twiml(replies)
