"""`helpdesk kb import`: load articles from a folder of .md/.html files or a CSV into a desk.

By default into the running local desk (`helpdesk start`); with `--table NAME`, into that
table through the ordinary AWS configuration (AWS_ENDPOINT_URL and friends).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpdesk.exceptions import HelpdeskError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("kb", help="manage the knowledge base")
    inner = parser.add_subparsers(dest="kb_command", metavar="COMMAND")
    parser.set_defaults(handler=lambda _args: parser.print_help() or 2)

    load = inner.add_parser(
        "import",
        help="create or update articles from a folder or a CSV",
        description="Each .md/.html file of FOLDER is an article (optional front matter: id, "
        "title, tags, visibility, locale); a CSV has id,title,body[,tags,visibility,locale].",
    )
    source = load.add_mutually_exclusive_group(required=True)
    source.add_argument("--folder", type=Path)
    source.add_argument("--csv", type=Path)
    load.add_argument("--table", help="a DynamoDB table name (default: the local desk's)")
    load.add_argument("--state-dir", type=Path, help="the local desk's state folder")
    load.add_argument("--author", default="import")
    load.add_argument(
        "--no-embed", action="store_true", help="store without vectors (keyword search only)"
    )
    load.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    from helpdesk.kb.importer import read_csv, read_folder
    from helpdesk.kb.repository import ArticleRepository
    from helpdesk.kb.service import KnowledgeBase

    try:
        table = _table(args)
        items = (
            list(read_folder(args.folder))
            if args.folder
            else list(read_csv(args.csv.read_text(encoding="utf-8")))
        )
    except (OSError, ValueError, HelpdeskError) as error:
        print(error, file=sys.stderr)
        return 1
    embedder = None if args.no_embed else _embedder()
    kb = KnowledgeBase(ArticleRepository(table), embedder=lambda: embedder)
    report = kb.import_articles(items, now=datetime.now(UTC), author=args.author)
    print(
        f"created {len(report.created)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, failed {len(report.failed)}"
    )
    for article_id, reason in report.failed.items():
        print(f"  {article_id}: {reason}", file=sys.stderr)
    return 1 if report.failed else 0


def _table(args: argparse.Namespace) -> Any:
    import boto3

    if args.table:
        return boto3.session.Session().resource("dynamodb").Table(args.table)
    from helpdesk_tools.local.stack import STATE_DIR, read_stack_info

    info = read_stack_info(args.state_dir or STATE_DIR)
    return info.session().resource("dynamodb").Table(info.tables["Table"])


def _embedder() -> Any:
    from helpdesk.ai.embed import shared_onnx_embedder

    return shared_onnx_embedder()
