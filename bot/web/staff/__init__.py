"""The staff console under /staff: sign-in, the simulator, the dashboard, the flow map and the
navigators' cases. One blueprint; each page is its own module, which adds its routes to it.

Every page needs a signed-in account whose role may open it (`auth.requires`); every form
carries a CSRF token (Flask-WTF, set up by `install`). Nothing is fetched from elsewhere at run
time: the CSS is in `static/`, charts are SVG drawn on the server.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates",
               static_folder="static", static_url_path="/static")


def install(app: Flask) -> None:
    """Register the console and what it needs: signed sessions, CSRF, accounts."""
    from bot.web.staff import auth

    auth.install(app)
    app.register_blueprint(bp)


def _pages() -> None:
    """Import the page modules that exist (each adds its routes to `bp`)."""
    import importlib
    import importlib.util

    for name in PAGES:
        if importlib.util.find_spec(f"bot.web.staff.{name}") is not None:
            importlib.import_module(f"bot.web.staff.{name}")


PAGES = ("auth", "dashboard", "simulator", "flow", "cases", "flyers")
_pages()
