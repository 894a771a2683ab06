"""Knowledge-base routes: agents' article CRUD and search, the public help centre, suggestions
while a customer types, and the "Did this solve it?" confirmation of AI answers.

Customers (and anyone not signed in) only ever see public articles; an internal article is a
404 to them, never a 403. Suggestions use BM25 at once and add semantic search only where the
model is already in memory; the help-centre search runs both (see helpdesk.kb.factory).

The confirmation link in a mail opens a page with a button; only the button's POST changes
the ticket. A GET never does, because mail scanners open links before people do.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import Direction
from helpdesk.exceptions import HelpdeskError, UnauthorizedError, ValidationError
from helpdesk.kb import factory
from helpdesk.kb.answer import LocalAnswerer
from helpdesk.kb.confirm import AnswerRecords, Choice
from helpdesk.kb.importer import read_csv
from helpdesk.kb.models import (
    Article,
    ArticleDraft,
    ArticleVersion,
    Audience,
    BodyFormat,
    SearchHit,
    Visibility,
)
from helpdesk.kb.responder import ResponderService, confirm, load_policy
from helpdesk.kb.search import article_url
from helpdesk.kb.service import KnowledgeBase
from helpdesk.kb.settings import KbSettings, kb_settings
from helpdesk.kb.text import body_html
from helpdesk.portal.context import Portal
from helpdesk.portal.router import Call, Router

blueprint = Blueprint(__name__)
router = Router(blueprint, "knowledge base")

HTML = "text/html"


# -- schemas -------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArticleIn(_Body):
    id: str | None = Field(default=None, max_length=64)
    title: str = Field(min_length=1, max_length=500)
    body: str = Field(default="", max_length=200_000)
    body_format: BodyFormat = BodyFormat.MARKDOWN
    tags: list[str] = Field(default_factory=list, max_length=50)
    visibility: Visibility = Visibility.PUBLIC
    locale: str = "en"
    version: int | None = Field(default=None, ge=1, description="the version you edited")

    def draft(self) -> ArticleDraft:
        return ArticleDraft.model_validate(self.model_dump(include=set(ArticleDraft.model_fields)))


class ArticleOut(_Body):
    id: str
    title: str
    body: str
    body_format: BodyFormat
    html: str
    tags: list[str]
    visibility: Visibility
    locale: str
    version: int
    created_at: datetime
    updated_at: datetime
    author: str
    url: str


class ArticleSummary(_Body):
    id: str
    title: str
    tags: list[str]
    visibility: Visibility
    locale: str
    version: int
    url: str


class ArticleList(_Body):
    articles: list[ArticleSummary]


class VersionOut(_Body):
    version: int
    title: str
    body: str
    tags: list[str]
    visibility: Visibility
    updated_at: datetime
    author: str
    deleted: bool


class VersionList(_Body):
    versions: list[VersionOut]


class SearchQuery(_Body):
    q: str = Field(default="", max_length=300)
    locale: str | None = Field(default=None, max_length=16)
    limit: int = Field(default=5, ge=1, le=20)


class SearchResults(_Body):
    articles: list[SearchHit]


class HelpCentreQuery(_Body):
    locale: str | None = Field(default=None, max_length=16)


class HelpSection(_Body):
    tag: str
    articles: list[ArticleSummary]


class HelpCentre(_Body):
    sections: list[HelpSection]
    articles: list[ArticleSummary]


class DeleteQuery(_Body):
    version: int | None = Field(default=None, ge=1)


class ImportIn(_Body):
    csv: str = Field(max_length=5_000_000, description="id,title,body[,tags,visibility,locale]")


class ImportOut(_Body):
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    failed: dict[str, str]


class ConfirmIn(_Body):
    token: str = Field(max_length=2048)


class ConfirmOut(_Body):
    ticket_number: int
    choice: Literal["yes", "no"]


class ConfirmQuery(_Body):
    token: str = Field(default="", max_length=2048)


# -- the KB of this process -----------------------------------------------------------------


def settings_for(portal: Portal) -> KbSettings:
    """The KB settings, with the portal's public URL when HELPDESK_PUBLIC_URL is not set."""
    settings = kb_settings()
    if not settings.public_url:
        settings = settings.model_copy(update={"public_url": portal.settings.public_url})
    return settings


def _kb(call: Call) -> KnowledgeBase:
    return factory.knowledge_base(call.portal.table, settings_for(call.portal))


def _summary(kb: KnowledgeBase, doc: Any) -> ArticleSummary:
    return ArticleSummary(
        id=doc.id,
        title=doc.title,
        tags=doc.tags,
        visibility=doc.visibility,
        locale=doc.locale,
        version=doc.version,
        url=article_url(kb.base_url, doc.id),
    )


def _out(kb: KnowledgeBase, article: Article) -> ArticleOut:
    return ArticleOut(
        **article.model_dump(),
        html=body_html(article.body, article.body_format),
        url=article_url(kb.base_url, article.id),
    )


# -- agents ---------------------------------------------------------------------------------


@router.route(
    "/api/agent/kb/articles",
    "GET",
    auth="agent",
    summary="Every article, public and internal",
    response=ArticleList,
)
def list_articles(call: Call) -> ArticleList:
    kb = _kb(call)
    return ArticleList(articles=[_summary(kb, d) for d in kb.articles(audience=Audience.AGENT)])


@router.route(
    "/api/agent/kb/articles",
    "POST",
    auth="agent",
    summary="Create an article (version 1)",
    body=ArticleIn,
    response=ArticleOut,
    status=201,
)
def create_article(call: Call) -> ArticleOut:
    kb = _kb(call)
    body: ArticleIn = call.body
    article = kb.create(
        body.draft(), now=call.now, author=call.require_agent().id, article_id=body.id
    )
    return _out(kb, article)


@router.route(
    "/api/agent/kb/articles/{article_id}",
    "GET",
    auth="agent",
    summary="One article, current version",
    response=ArticleOut,
)
def get_article(call: Call, article_id: str) -> ArticleOut:
    kb = _kb(call)
    return _out(kb, kb.get(article_id, audience=Audience.AGENT))


@router.route(
    "/api/agent/kb/articles/{article_id}",
    "PUT",
    auth="agent",
    summary="Store a new version of an article; 409 when `version` is not the current one",
    body=ArticleIn,
    response=ArticleOut,
)
def update_article(call: Call, article_id: str) -> ArticleOut:
    kb = _kb(call)
    body: ArticleIn = call.body
    if body.id is not None and body.id != article_id:
        raise ValidationError("an article's id cannot change", field="id")
    article = kb.update(
        article_id,
        body.draft(),
        now=call.now,
        author=call.require_agent().id,
        expected_version=body.version,
    )
    return _out(kb, article)


@router.route(
    "/api/agent/kb/articles/{article_id}",
    "DELETE",
    auth="agent",
    summary="Delete an article (its history stays readable)",
    query=DeleteQuery,
)
def delete_article(call: Call, article_id: str) -> None:
    query: DeleteQuery = call.query
    _kb(call).delete(
        article_id, now=call.now, author=call.require_agent().id, expected_version=query.version
    )


@router.route(
    "/api/agent/kb/articles/{article_id}/versions",
    "GET",
    auth="agent",
    summary="Every version of an article, oldest first",
    response=VersionList,
)
def article_versions(call: Call, article_id: str) -> VersionList:
    versions: list[ArticleVersion] = _kb(call).history(article_id)
    return VersionList(
        versions=[
            VersionOut(**v.model_dump(include=set(VersionOut.model_fields))) for v in versions
        ]
    )


@router.route(
    "/api/agent/kb/search",
    "GET",
    auth="agent",
    summary="Search every article, internal ones included",
    query=SearchQuery,
    response=SearchResults,
)
def agent_search(call: Call) -> SearchResults:
    query: SearchQuery = call.query
    hits = _kb(call).search(
        query.q, audience=Audience.AGENT, k=query.limit, locale=query.locale or None
    )
    return SearchResults(articles=hits)


@router.route(
    "/api/agent/tickets/{number}/kb-suggestions",
    "GET",
    auth="agent",
    summary="Articles that may answer a ticket (its subject and first customer message)",
    response=SearchResults,
)
def ticket_suggestions(call: Call, number: int) -> SearchResults:
    thread = TicketRepository(call.portal.table).thread(number)
    first = next((m for m in thread.messages if m.direction == Direction.INBOUND), None)
    text = thread.ticket.subject + "\n" + ((first.visible_text or first.text) if first else "")
    return SearchResults(articles=_kb(call).search(text, audience=Audience.AGENT, k=5))


@router.route(
    "/api/agent/kb/import",
    "POST",
    auth="agent",
    summary="Create or update articles from a CSV (id,title,body[,tags,visibility,locale])",
    body=ImportIn,
    response=ImportOut,
)
def import_articles(call: Call) -> ImportOut:
    body: ImportIn = call.body
    report = _kb(call).import_articles(
        list(read_csv(body.csv)), now=call.now, author=call.require_agent().id
    )
    return ImportOut(**vars(report))


# -- customers and the public ---------------------------------------------------------------


@router.route(
    "/api/portal/kb/search",
    "GET",
    auth="public",
    summary="Search the public help centre (keyword and semantic, merged)",
    query=SearchQuery,
    response=SearchResults,
)
def public_search(call: Call) -> SearchResults:
    query: SearchQuery = call.query
    hits = _kb(call).search(
        query.q, audience=Audience.CUSTOMER, k=query.limit, locale=query.locale or None
    )
    return SearchResults(articles=hits)


@router.route(
    "/api/portal/kb/suggest",
    "GET",
    auth="public",
    summary="Public articles for a subject being typed (instant: BM25, plus semantic if warm)",
    query=SearchQuery,
    response=SearchResults,
)
def suggest(call: Call) -> SearchResults:
    query: SearchQuery = call.query
    return SearchResults(articles=suggestions(call, query.q, limit=query.limit))


def suggestions(call: Call, text: str, *, limit: int = 5) -> list[SearchHit]:
    """Public articles for what a customer is typing; usable by the portal's own suggestions
    route too. Short input gets nothing."""
    if len(text.strip()) < 3:
        return []
    return _kb(call).search(
        text, audience=Audience.CUSTOMER, k=limit, semantic=factory.embedder_loaded()
    )


@router.route(
    "/api/portal/kb/help",
    "GET",
    auth="public",
    summary="The public help centre: public articles, grouped by tag",
    query=HelpCentreQuery,
    response=HelpCentre,
)
def help_centre(call: Call) -> HelpCentre:
    query: HelpCentreQuery = call.query
    kb = _kb(call)
    docs = [
        doc
        for doc in kb.articles(audience=Audience.CUSTOMER)
        if not query.locale or doc.locale == query.locale.lower()
    ]
    docs.sort(key=lambda doc: doc.title.lower())
    tags = sorted({tag for doc in docs for tag in doc.tags})
    return HelpCentre(
        sections=[
            HelpSection(tag=tag, articles=[_summary(kb, d) for d in docs if tag in d.tags])
            for tag in tags
        ],
        articles=[_summary(kb, d) for d in docs],
    )


@router.route(
    "/api/portal/kb/articles/{article_id}",
    "GET",
    auth="public",
    summary="One public article",
    response=ArticleOut,
)
def public_article(call: Call, article_id: str) -> ArticleOut:
    kb = _kb(call)
    return _out(kb, kb.get(article_id, audience=Audience.CUSTOMER))


@router.route(
    "/help/articles/{article_id}",
    "GET",
    auth="public",
    summary="A public article as a page",
    produces=HTML,
)
def article_page(call: Call, article_id: str) -> Response:
    article = _kb(call).get(article_id, audience=Audience.CUSTOMER)
    content = f"<h1>{html.escape(article.title)}</h1>\n" + body_html(
        article.body, article.body_format
    )
    return _page(article.title, content, depth=2, brand=_brand(call))


@router.route("/help", "GET", auth="public", summary="The help centre page", produces=HTML)
def help_page(call: Call) -> Response:
    q = (call.request.query_params or {}).get("q", "")[:300]
    kb = _kb(call)
    form = (
        '<form method="get" action="help" role="search"><label for="q">Search help</label> '
        f'<input id="q" name="q" value="{html.escape(q)}"> <button>Search</button></form>'
    )
    if q.strip():
        hits = kb.search(q, audience=Audience.CUSTOMER, k=10)
        items = "".join(
            f'<li><a href="help/articles/{html.escape(h.id)}">{html.escape(h.title)}</a>'
            f"<p>{html.escape(h.excerpt)}</p></li>"
            for h in hits
        )
        listing = f"<ol>{items}</ol>" if hits else "<p>No article matches.</p>"
    else:
        docs = sorted(kb.articles(audience=Audience.CUSTOMER), key=lambda d: d.title.lower())
        listing = (
            "<ul>"
            + "".join(
                f'<li><a href="help/articles/{html.escape(d.id)}">{html.escape(d.title)}</a></li>'
                for d in docs
            )
            + "</ul>"
        )
    content = f"<h1>Help centre</h1>{form}{listing}"
    return _page("Help centre", content, depth=0, brand=_brand(call))


# -- "Did this solve it?" ------------------------------------------------------------------


def responder_for(portal: Portal) -> ResponderService:
    """The responder service the confirmation routes use (they never write an answer, so the
    answerer is the local one)."""
    table = portal.table
    settings = settings_for(portal)
    return ResponderService(
        tickets=TicketRepository(table),
        kb=factory.knowledge_base(table, settings),
        records=AnswerRecords(table),
        answerer=LocalAnswerer(),
        policy=load_policy(ConfigRepository(table)),
        settings=settings,
        mail=portal.settings,
    )


@router.route(
    "/api/portal/kb/confirm",
    "GET",
    auth="public",
    summary="The page a yes/no link in an AI answer opens (it changes nothing by itself)",
    query=ConfirmQuery,
    produces=HTML,
)
def confirm_page(call: Call) -> Response:
    token = call.query.token
    choice = "yes" if _peek_choice(token) == "yes" else "no"
    question = (
        "Glad it helped! Confirm that your request is solved:"
        if choice == "yes"
        else "Sorry it did not help. Confirm, and a person from our team will take over:"
    )
    button = "Yes, it is solved" if choice == "yes" else "Send my request to a person"
    content = (
        f"<h1>Did this solve it?</h1><p>{html.escape(question)}</p>"
        '<form method="post" action="confirm">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        f"<button>{html.escape(button)}</button></form>"
    )
    return _page("Did this solve it?", content, depth=3, brand=_brand(call))


@router.route(
    "/api/portal/kb/confirm",
    "POST",
    auth="public",
    summary="Apply a yes/no: yes solves the ticket as AI-resolved, no hands it to a person",
    documented_body=ConfirmIn,
    response=ConfirmOut,
)
def confirm_answer(call: Call) -> Response | ConfirmOut:
    form = "application/x-www-form-urlencoded" in (call.headers.get("content-type") or "")
    if form:
        token = parse_qs(call.raw_body.decode("utf-8", "replace")).get("token", [""])[0]
    else:
        token = ConfirmIn.model_validate_json(call.raw_body or b"{}").token
    try:
        number, choice = confirm(token, now=call.now, service=responder_for(call.portal))
    except UnauthorizedError as error:
        if not form:
            raise
        content = f"<h1>Link not valid</h1><p>{html.escape(str(error))}.</p>"
        return _page("Did this solve it?", content, depth=3, brand=_brand(call), status=401)
    if not form:
        return ConfirmOut(ticket_number=number, choice=choice.value)
    text = (
        "Thank you: your request is solved."
        if choice == Choice.YES
        else "Thank you: a person from our team will answer you."
    )
    return _page("Did this solve it?", f"<h1>{html.escape(text)}</h1>", depth=3, brand=_brand(call))


def _peek_choice(token: str) -> str | None:
    """The choice a token names, read without trusting it (the page only words its button)."""
    import base64
    import json

    payload = token.split(".", 1)[0]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, HelpdeskError):
        return None
    return claims.get("choice") if isinstance(claims, dict) else None


def _brand(call: Call) -> str:
    from helpdesk.portal.services.customers import portal_config

    return portal_config(call.portal).brand_name


def _page(
    title: str, content: str, *, depth: int, brand: str = "Support", status: int = 200
) -> Response:
    prefix = "../" * depth
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="{prefix}static/shared/base.css">'
        f'<link rel="stylesheet" href="{prefix}static/portal/portal.css"></head><body>'
        '<header class="masthead" role="banner"><div class="masthead-inner">'
        f'<a class="brand" href="{prefix or "./"}">{html.escape(brand)}</a><nav>'
        f'<a class="button" href="{prefix}help">Help centre</a></nav></div></header>'
        f'<main id="main"><section class="card">{content}</section></main></body></html>'
    )
    return Response(
        body=document,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
    )
