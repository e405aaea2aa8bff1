"""A page where staff text the bot from a browser: the same pipeline as Twilio's web hook
(the same `respond` function, minus the signature check), so the preview is the real thing.

Development only, and it fails closed: it texts as any number without a signature, so it is
registered only when asked for (`SIMULATOR=1`, which `screener run` sets) on a machine with
neither Twilio credential. A staging site with credentials never serves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from flask import Blueprint, Response, jsonify, request

from bot import outbox
from bot.web.twilio import respond

bp = Blueprint("simulator", __name__)
DEFAULT_FROM = "+15555550100"  # 555-01xx numbers are reserved for fiction
OUTBOX_SHOWN = 20


def asked_for(config: Mapping[str, Any]) -> bool:
    return str(config.get("SIMULATOR") or "").strip().lower() in ("1", "true", "yes", "on")


def enabled(config: Mapping[str, Any]) -> bool:
    """Asked for, and no Twilio credential at all (one alone still means a real site)."""
    return asked_for(config) and not (config.get("TWILIO_ACCOUNT_SID")
                                      or config.get("TWILIO_AUTH_TOKEN"))


@bp.get("/simulator")
def page() -> Response:
    return Response(PAGE, mimetype="text/html")


@bp.post("/simulator/send")
def send() -> Response:
    """Form or JSON with `Body` (and optionally `From`, `channel`); answers with TwiML."""
    data = request.get_json(silent=True) or request.form
    sender = data.get("From") or DEFAULT_FROM
    if data.get("channel") == "whatsapp" and not sender.startswith("whatsapp:"):
        sender = f"whatsapp:{sender}"
    return respond({
        "From": sender,
        "To": "simulator",
        "Body": data.get("Body") or "",
        "MessageSid": data.get("MessageSid") or f"SM{uuid4().hex}",
        "NumMedia": "0",
    })


@bp.get("/simulator/outbox")
def recent_outbox() -> Response:
    """The last messages the worker put in the local outbox (sent later, not as replies)."""
    return jsonify(outbox.read()[-OUTBOX_SHOWN:])


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Text line simulator</title>
<style>
 body{font:16px system-ui,sans-serif;max-width:34rem;margin:1rem auto;padding:0 1rem}
 #log{border:1px solid #ccc;border-radius:8px;padding:.5rem;min-height:20rem;overflow-y:auto}
 .msg{white-space:pre-wrap;margin:.4rem 0;padding:.4rem .6rem;border-radius:12px;max-width:85%}
 .me{background:#0b6cf0;color:#fff;margin-left:auto} .bot{background:#eee}
 .later{background:#fff4cc} form{display:flex;gap:.5rem;margin-top:.5rem}
 #body{flex:1;font-size:1rem;padding:.4rem} small{color:#555}
</style></head><body>
<h1>Text line simulator</h1>
<p><small>Same pipeline as Twilio's web hook. Replies arrive as TwiML; yellow bubbles are
messages the worker sent later (the local outbox).</small></p>
<p><label>From <input id="from" value="+15555550100"></label>
<label><select id="channel"><option>sms</option><option>whatsapp</option></select></label></p>
<div id="log" aria-live="polite"></div>
<form id="send"><input id="body" autocomplete="off" placeholder="Type as a resident would"
 aria-label="Message"><button>Send</button></form>
<script>
const log = document.getElementById("log"), body = document.getElementById("body");
const shown = new Set();
function bubble(text, cls){const d=document.createElement("div");d.className="msg "+cls;
 d.textContent=text;log.appendChild(d);log.scrollTop=log.scrollHeight;}
document.getElementById("send").addEventListener("submit", async (e) => {
 e.preventDefault(); const text = body.value; body.value = ""; bubble(text || " ", "me");
 const r = await fetch("simulator/send", {method: "POST", headers: {"Content-Type":
  "application/json"}, body: JSON.stringify({Body: text, From:
  document.getElementById("from").value, channel: document.getElementById("channel").value})});
 const xml = new DOMParser().parseFromString(await r.text(), "text/xml");
 const replies = [...xml.getElementsByTagName("Message")].map(m => m.textContent);
 if (!replies.length) bubble("(no reply)", "bot");
 replies.forEach(t => bubble(t, "bot"));
});
async function outbox(){try{const items = await (await fetch("simulator/outbox")).json();
 items.filter(m => !shown.has(m.id)).forEach(m => {shown.add(m.id); bubble(m.body, "later");});
 }catch(e){}}
outbox(); setInterval(outbox, 3000);
</script></body></html>
"""
