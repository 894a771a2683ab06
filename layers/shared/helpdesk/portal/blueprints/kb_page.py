"""The agents' knowledge-base page: a static page that manages articles through the
/api/agent/kb/... routes with the agent's token."""

from __future__ import annotations

from chalice import Blueprint, Response

from helpdesk.portal.blueprints import pages
from helpdesk.portal.router import Call, Router

blueprint = Blueprint(__name__)
router = Router(blueprint, "knowledge base")


@router.route(
    "/knowledge",
    "GET",
    auth="public",
    summary="The agents' knowledge-base page",
    produces="text/html",
)
def knowledge_page(call: Call) -> Response:
    """Returns the page; it signs nothing in by itself (the API calls carry the token)."""
    return pages.static_files.response("agent", "kb.html")
