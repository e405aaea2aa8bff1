"""Campaign flyers at /staff/flyers: every campaign in every language, to print as PDF or look
at as PNG, the same files `screener flyer` writes (bot/flyer.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, render_template

from bot.flyer import FlyerError, render_flyer
from bot.rules import san_jose_date
from bot.web.staff import bp
from bot.web.staff.auth import requires


@bp.get("/flyers", endpoint="flyers")
@requires("flyers")
def flyers_page() -> Any:
    line = current_app.extensions["textline"]
    today = san_jose_date(line.clock())
    campaigns = [(campaign, campaign.running(today))
                 for campaign in line.content.campaigns.campaigns]
    return render_template("staff/flyers.html", campaigns=campaigns,
                           languages=line.content.flow.languages,
                           number=line.content.campaigns.number)


@bp.get("/flyers/<campaign_id>-<lang>.<kind>")
@requires("flyers")
def flyer_file(campaign_id: str, lang: str, kind: str) -> Response:
    if kind not in ("pdf", "png"):
        abort(404)
    try:
        flyer = render_flyer(current_app.extensions["textline"].content, campaign_id, lang)
    except FlyerError as error:
        return Response(str(error), status=404, mimetype="text/plain")
    data = flyer.pdf if kind == "pdf" else flyer.png
    mimetype = "application/pdf" if kind == "pdf" else "image/png"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'inline; filename="flyer-{campaign_id}-{lang}.{kind}"'})
