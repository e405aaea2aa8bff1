"""The simulator: staff text the bot from the browser as a fictional resident.

Each message goes through `bot.web.twilio.respond`, the function behind Twilio's web hook, with
the form Twilio would send, so what staff see is what residents get. No Twilio signature is
asked for only because the account is signed in, and the sender is always a fictional number
(bot/simulated.py) built here, never one the browser names. Follow-ups the worker sends later
land in the resident's thread, which the page polls.
"""

from __future__ import annotations

import datetime
import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from uuid import uuid4

from flask import Response, abort, jsonify, render_template, request

from bot import simulated
from bot.campaigns import Campaigns
from bot.content import Content
from bot.lint import lint
from bot.segments import count
from bot.store import day
from bot.web import textline
from bot.web.staff import bp
from bot.web.staff.auth import requires
from bot.web.twilio import respond
from bot.yamlsource import Problem

CHANNELS = ("sms", "whatsapp")


@dataclass(frozen=True)
class Starter:
    """A way to start a new resident: its label and the first message it sends."""

    label: str
    text: str
    note: str = ""
    running: bool = True


@bp.get("/simulator")
@requires("simulator")
def simulator() -> str:
    line = textline()
    folder = Path(line.content.flow.path).parent
    return render_template("staff/simulator.html", languages=greetings(line.content),
                           campaigns=campaign_starters(line.content.campaigns, line.clock()),
                           problems=flow_problems(str(folder)),
                           restart=line.content.command_words("restart", "en")[0])


@bp.post("/simulator/residents")
@requires("simulator")
def new_resident() -> Response:
    """The next fictional resident, wiped clean."""
    line = textline()
    resident = simulated.next_resident(line.store.redis, line.contact, line.jobs.cancel)
    return jsonify(resident=resident, number=shown_number(resident))


@bp.post("/simulator/send")
@requires("simulator")
def send() -> Response:
    """JSON `{resident, body, channel}` in; the replies with their SMS segments out."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    resident = _resident(data.get("resident"))
    channel = data.get("channel") if data.get("channel") in CHANNELS else "sms"
    form = twilio_form(simulated.number(resident), channel, str(data.get("body") or ""),
                       textline().content.campaigns.number)
    return jsonify(replies=[bubble(text) for text in twiml_texts(respond(form))])


@bp.get("/simulator/thread")
@requires("simulator")
def thread() -> Response:
    """What the worker sent the resident since message `after` (the page shows the rest)."""
    resident = _resident(request.args.get("resident"))
    after = request.args.get("after", "0")
    start = int(after) if after.isascii() and after.isdigit() else 0
    line = textline()
    messages = simulated.thread(line.store.redis, line.contact(simulated.number(resident)),
                                start)
    return jsonify(messages=[bubble(text) for text in messages], next=start + len(messages))


def twilio_form(address: str, channel: str, body: str, line_number: str) -> dict[str, str]:
    """The fields Twilio posts for one inbound message (a fresh MessageSid each time)."""
    prefix = "whatsapp:" if channel == "whatsapp" else ""
    return {"From": prefix + address, "To": prefix + line_number, "Body": body,
            "MessageSid": f"SM{uuid4().hex}", "NumMedia": "0"}


def twiml_texts(response: Response) -> list[str]:
    """The texts of the <Message> elements of our own TwiML answer."""
    return [element.text or "" for element in ET.fromstring(response.get_data()).iter("Message")]


def bubble(text: str) -> dict[str, Any]:
    """A message as the page shows it: with what it costs as an SMS."""
    cost = count(text)
    return {"text": text, "segments": cost.segments, "encoding": cost.encoding}


def shown_number(resident: int) -> str:
    """555-555-0100: plainly a made-up number."""
    address = simulated.number(resident)
    return f"{address[2:5]}-{address[5:8]}-{address[8:]}"


def greetings(content: Content) -> list[Starter]:
    """One starter per language, in the catalogs' order: its first greeting word."""
    languages = content.flow.languages
    return [Starter(languages[code].name, languages[code].detect[0])
            for code in content.languages if code in languages and languages[code].detect]


def campaign_starters(campaigns: Campaigns, now: float) -> list[Starter]:
    """One starter per campaign, its first keyword; one outside its dates is shown, off."""
    today = datetime.date.fromisoformat(day(now))
    return [Starter(campaign.name, campaign.keywords[0],
                    ", ".join(filter(None, (campaign.keywords[0], campaign.lang))),
                    campaign.running(today))
            for campaign in campaigns.campaigns]


@functools.cache
def flow_problems(flows: str) -> tuple[Problem, ...]:
    """`screener lint` on the flows this process loaded, once: the content loads once too.
    Paths are shown from the folder that holds `flows/` (`flows/screener.yaml:12`)."""
    base = Path(flows).parent
    return tuple(replace(problem, path=_relative(problem.path, base))
                 for problem in lint(Path(flows)) if problem.severity != "info")


def _relative(path: str, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return path


def _resident(value: Any) -> int:
    """A resident the simulator has (0 to 99), or 400: never a number from the browser."""
    if isinstance(value, int) and not isinstance(value, bool):
        resident = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        resident = int(value)
    else:
        abort(400)
    if not 0 <= resident < simulated.RESIDENTS:
        abort(400)
    return resident
