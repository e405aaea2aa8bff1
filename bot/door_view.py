"""The web door's view of a conversation (issue 15): what the page shows, as plain data.

Pure: from the content, the session, the page's language, this turn's replies and the
transcript, the JSON the page's script reads and its template renders (docs/web.md has the
contract). Every word comes from the engine's replies, the flow and the catalogs.

Buttons send exactly what a resident could type (a yes word, a choice's number, SKIP), so a
tap and a typed answer are one thing to the engine. Every matched program is a card: a page
has room for them all, so there is no "More" button (typing MORE still pages the text, as
on SMS).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.content import Content
from bot.results import nearest_places
from bot.rules import Program
from bot.session import Stage

RTL = frozenset({"ar", "fa", "he", "ur"})  # none of ours yet: `dir` is ready for them
# The needs the SMS results point to ("Need food, a safe place or help today?"): on the web
# their nearest services are shown beside the results.
HELP_TODAY = ("food", "shelter", "help_now")
# Phone numbers as the program texts write them: 408-758-3800, 1-800-984-3663, 2-1-1.
_PHONE = re.compile(r"(?<![\d-])(?:1-)?\d{3}-\d{3}-\d{4}(?![\d-])|(?<![\d-])[2-9]-1-1(?![\d-])")
# Sites: BenefitsCal.com, pge.com/care, edd.ca.gov, with or without http(s)://.
_SITE = re.compile(r"(?<![\w@/.-])(?:https?://)?((?:[a-z0-9-]+\.)+(?:com|org|gov|net|edu|us)"
                   r"(?:/[\w/.-]*[\w/])?)(?![\w-])", re.IGNORECASE)

View = dict[str, Any]


def view(content: Content, session: Mapping[str, Any] | None, lang: str, *,
         texts: Mapping[str, str], replies: Sequence[str] = (),
         transcript: Sequence[Mapping[str, str]] = (), opted_out: bool = False) -> View:
    """The contract's JSON. `texts` are the page's own words in `lang` (bot/webtexts.py):
    the Start, Go on, Start over and Back buttons take their labels from them."""
    return {
        "lang": lang,
        "dir": "rtl" if lang in RTL else "ltr",
        "transcript": [dict(entry) for entry in transcript],
        "replies": list(replies),
        "stage": stage(session, opted_out),
        "question": _question(content, session),
        "buttons": buttons(content, session, lang, texts),
        "results": _cards(content, session, lang),
        "services": _services(content, session, lang),
        "can_text_results": can_text_results(session),
    }


def stage(session: Mapping[str, Any] | None, opted_out: bool = False) -> str:
    """The session's stage; `start` before any message, `stopped` after STOP."""
    if session is None:
        return "stopped" if opted_out else "start"
    return str(session["stage"])


def can_text_results(session: Mapping[str, Any] | None) -> bool:
    """Programs were found: "text me my results" has something to send."""
    return bool(session and session.get("programs") and not session.get("outside"))


def shown(buttons_now: Sequence[Mapping[str, str]], text: str) -> str | None:
    """The label of the button that sends `text` ("Student" for "2"), for the transcript."""
    return next((b["label"] for b in buttons_now if b["send"] == text.strip()), None)


def buttons(content: Content, session: Mapping[str, Any] | None, lang: str,
            texts: Mapping[str, str]) -> list[dict[str, str]]:
    """Quick replies for what the conversation waits for (none where only typing fits)."""
    if session is None:  # a fresh page, or after STOP: the START word begins either
        return [_button(texts["start"], content.command_words("start", lang)[0])]
    at = session["stage"]
    if at == Stage.LANGUAGE:
        return [_button(content.flow.languages[code].name, str(number))
                for number, code in enumerate(content.languages, start=1)]
    if at in (Stage.CONFIRM, Stage.CONSENT):
        return _yes_no(content, lang)
    if at == Stage.IDLE_OFFER:
        return [_button(texts["go_on"], "1"), _button(texts["start_over"], "2")]
    if at == Stage.URGENT:
        return [_button(texts["back_to_questions"], "1")]
    if at != Stage.ASKING or session.get("pending"):  # a follow-up question wants a number
        return []
    question = content.flow.question(session["question"])
    if question is None:
        return []
    found = _yes_no(content, lang) if question.type == "yes_no" else [
        _button(content.text(lang, choice.label), str(number))
        for number, choice in enumerate(question.choices, start=1)]
    if question.optional:
        skip = content.command_words("skip", lang)[0]
        found.append(_button(_capital(skip), skip))
    return found


def links(text: str) -> list[dict[str, str]]:
    """The phone numbers (`tel:`) and sites (`https:`) in a text, in order, each once. Only
    what the patterns match becomes a link, so no other scheme can get in."""
    found: list[tuple[int, str, str]] = []
    for match in _PHONE.finditer(text):
        found.append((match.start(), phone_href(match.group()) or "", match.group()))
    for match in _SITE.finditer(text):
        found.append((match.start(), f"https://{match.group(1)}", match.group(1)))
    seen: set[str] = set()
    result = []
    for _, href, label in sorted(found):
        if href and href.lower() not in seen:
            seen.add(href.lower())
            result.append({"href": href, "label": label})
    return result


def phone_href(number: str) -> str | None:
    """`tel:` for a US number (+1 and ten digits) or a three-digit line (211, 988, 911)."""
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"tel:+1{digits}"
    return f"tel:{digits}" if len(digits) == 3 else None


def _question(content: Content, session: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if session is None or session["stage"] not in (Stage.ASKING, Stage.CONFIRM):
        return None
    question = content.flow.question(session.get("question") or "")
    if question is None:
        return None
    return {"id": question.id, "type": question.type, "optional": question.optional}


def _finished(session: Mapping[str, Any] | None) -> bool:
    """The screening has results to show (none found counts; outside California does not)."""
    return bool(session and (session.get("programs") or session["stage"] == Stage.RESULTS)
                and not session.get("outside"))


def _cards(content: Content, session: Mapping[str, Any] | None,
           lang: str) -> list[dict[str, Any]] | None:
    if not _finished(session):
        return None
    known = {program.id for program in content.rules.programs}
    programs = [content.rules.program(pid) for pid in session["programs"] if pid in known]
    return [_card(content, lang, number, program)
            for number, program in enumerate(programs, start=1)]


def _card(content: Content, lang: str, number: int, program: Program) -> dict[str, Any]:
    apply = content.text(lang, program.apply)
    return {"number": number, "id": program.id, "name": content.text(lang, program.name),
            "summary": content.text(lang, program.summary),
            "details": content.text(lang, program.details), "apply": apply,
            "caution": content.text(lang, program.caution) if program.caution else None,
            "links": links(apply)}


def _services(content: Content, session: Mapping[str, Any] | None,
              lang: str) -> list[dict[str, Any]]:
    """Help today near the resident's ZIP, for the needs the SMS results point to."""
    if not _finished(session):
        return []
    needs = [need for wanted in HELP_TODAY for need in content.urgent.needs if need.id == wanted]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for need in needs:
        for place in nearest_places(content, lang, need, session["answers"]):
            found.setdefault((place.name, place.phone), {
                "name": place.name, "phone": place.phone, "href": phone_href(place.phone),
                "address": place.address, "hours": place.hours})
    return list(found.values())


def _yes_no(content: Content, lang: str) -> list[dict[str, str]]:
    words = content.flow.words
    return [_button(_capital(word), word)
            for word in (_first(words["yes"], lang), _first(words["no"], lang))]


def _first(table: Mapping[str, Sequence[str]], lang: str) -> str:
    return (table.get(lang) or table["en"])[0]


def _capital(word: str) -> str:
    """`Có` for `có`, `Skip` for `SKIP`: a button reads as a word, not a shout."""
    return word[:1].upper() + word[1:].lower()


def _button(label: str, send: str) -> dict[str, str]:
    return {"label": label, "send": send}
