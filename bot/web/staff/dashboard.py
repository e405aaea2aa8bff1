"""/staff/dashboard: what the text line did over a period of city days, as counts only (the
numbers are bot/dashboard.py's), with SVG charts drawn here and the same counts as CSV."""

from __future__ import annotations

from datetime import date

from flask import Response, render_template, request
from markupsafe import Markup

from bot.dashboard import Dashboard, Share, parse_period, read_counts, summarize, to_csv
from bot.store import day
from bot.web import textline
from bot.web.staff import bp
from bot.web.staff.auth import requires
from bot.web.staff.charts import Bar, Series, bars, columns

PROGRAMS_CHARTED = 12  # the chart shows the most matched; the table lists them all


@bp.get("/dashboard")
@requires("dashboard")
def dashboard() -> str:
    board, problem = _board()
    return render_template("staff/dashboard.html", board=board, problem=problem,
                           charts=draw(board))


@bp.get("/dashboard.csv")
@requires("dashboard")
def dashboard_csv() -> Response:
    """The page's counts, one row per metric, dimension and day (the page's from/to)."""
    board, problem = _board()
    if problem:
        return Response(problem + "\n", 400, mimetype="text/plain")
    name = f"dashboard-{board.period.start}-{board.period.end}.csv"
    return Response(to_csv(board.counts), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _board() -> tuple[Dashboard, str | None]:
    line = textline()
    period, problem = parse_period(request.args.get("from"), request.args.get("to"),
                                   date.fromisoformat(day(line.clock())))
    counts = read_counts(line.store.redis, period)
    return summarize(counts, period, line.content, line.jobs.health()), problem


def draw(board: Dashboard) -> dict[str, Markup]:
    """The page's charts, by name."""
    def shares(name: str, title: str, rows: list[Share]) -> Markup:
        return bars(name, title, [Bar(r.label, r.started, r.finished) for r in rows],
                    legend=("Started", "Finished"))

    return {
        "days": columns("days", "Screenings started and finished by day",
                        [d.day for d in board.days],
                        [Series("Started", [d.started for d in board.days]),
                         Series("Finished", [d.finished for d in board.days])]),
        "languages": shares("languages", "Screenings by language", board.languages),
        "channels": shares("channels", "Screenings by channel", board.channels),
        "campaigns": shares("campaigns", "Screenings by campaign", board.campaigns),
        "funnel": bars("funnel", "How many answered each question, in order",
                       [Bar(s.label + (" *" if s.some_only else ""), s.count)
                        for s in board.funnel]),
        "programs": bars("programs", "Programs matched most often",
                         [Bar(p.label, p.count) for p in board.programs[:PROGRAMS_CHARTED]]),
    }
