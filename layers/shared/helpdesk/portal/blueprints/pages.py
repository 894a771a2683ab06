"""The web pages and their static files."""

from __future__ import annotations

from pathlib import Path

from chalice import Blueprint, Response

from helpdesk.portal.router import Call, Router
from helpdesk.portal.static import StaticFiles

blueprint = Blueprint(__name__)
router = Router(blueprint, "pages")

# Set by create_app to the function's static folder.
static_files = StaticFiles(Path(__file__).resolve().parent / "static")

HTML = "text/html"


@router.route("/", "GET", auth="public", summary="The customer portal page", produces=HTML)
def portal_page(call: Call) -> Response:
    return static_files.response("portal", "index.html")


@router.route("/portal", "GET", auth="public", summary="The customer portal page", produces=HTML)
def portal_page_alias(call: Call) -> Response:
    return static_files.response("portal", "index.html")


@router.route("/agent", "GET", auth="public", summary="The agent workspace page", produces=HTML)
def agent_page(call: Call) -> Response:
    return static_files.response("agent", "index.html")


@router.route("/static/{name}", "GET", auth="public", summary="A static file", produces="*/*")
def static_file(call: Call, name: str) -> Response:
    return static_files.response(name)


@router.route(
    "/static/{area}/{name}", "GET", auth="public", summary="A static file", produces="*/*"
)
def static_area_file(call: Call, area: str, name: str) -> Response:
    return static_files.response(area, name)
