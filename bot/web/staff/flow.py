"""/staff/flow: the flow map (bot/flowmap.py) of the flows folder the line runs on, as the
files are now, so staff see what an edit does: the SVG, and the same as a list for phones and
screen readers."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template
from markupsafe import Markup

from bot import flowmap
from bot.web.staff import bp
from bot.web.staff.auth import requires


@bp.get("/flow")
@requires("flow")
def flow() -> str:
    folder = Path(current_app.extensions["textline"].content.flow.path).parent
    flow_map = flowmap.current(folder)
    svg = Markup(flowmap.render_svg(flow_map, listed=False))  # every text in it is escaped
    return render_template("staff/flow.html", map=flow_map, svg=svg, folder=folder.name)
