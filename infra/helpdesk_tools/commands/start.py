"""`helpdesk start`: the whole desk on this machine, until Ctrl-C.

On the first start (no saved state) the desk is seeded from the shared corpus. On Ctrl-C the
state is saved to .local/state.json and restored by the next start.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpdesk_tools.local.settings import STATE_DIR, LocalSettings

if TYPE_CHECKING:
    from helpdesk_tools.local.stack import LocalStack, StackInfo

logger = logging.getLogger(__name__)

STATE_FILE = "state.json"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "start",
        help="run the whole desk locally (SMTP, web, AWS APIs on loopback) until Ctrl-C",
        description="Run the whole desk on this machine. The first start seeds it from the "
        "shared corpus; Ctrl-C saves the desk to .local/state.json for the next start.",
    )
    defaults = LocalSettings()
    parser.add_argument("--host", default=defaults.host, help="loopback address to listen on")
    parser.add_argument("--smtp-port", type=int, default=defaults.smtp_port, help="mail in")
    parser.add_argument("--http-port", type=int, default=defaults.http_port, help="web and API")
    parser.add_argument("--aws-port", type=int, default=defaults.aws_port, help="0: any free port")
    parser.add_argument("--mail-domain", default=defaults.mail_domain)
    parser.add_argument(
        "--max-message-bytes", type=int, default=defaults.max_message_bytes,
        help="larger mail is refused with 552 5.3.4",
    )  # fmt: skip
    parser.add_argument(
        "--sla-interval", type=float, default=defaults.sla_interval,
        help="seconds between SLA sweeps (the template says one minute)",
    )  # fmt: skip
    parser.add_argument(
        "--url-prefix", default=defaults.url_prefix,
        help="path the API and pages are served under (API Gateway's stage; '' for the root)",
    )  # fmt: skip
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    parser.add_argument("--state", type=Path, help="start from this exported state file")
    parser.add_argument("--fresh", action="store_true", help="ignore the saved state")
    parser.add_argument("--no-persist", action="store_true", help="do not save on shutdown")
    parser.add_argument("--seed", type=Path, dest="seed_path", help="corpus to seed from")
    parser.add_argument("--no-seed", action="store_true", help="start empty")
    parser.add_argument("--seed-count", type=int, default=400, help="mails to seed with")
    parser.add_argument("--quiet-seed", action="store_true", help="no progress bar")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from helpdesk_tools.local import logs, state
    from helpdesk_tools.local.stack import LocalStack

    logs.configure(logging.DEBUG if args.verbose else logging.INFO)
    if not _is_loopback(args.host):
        print(f"--host must be a loopback address, not {args.host}", file=sys.stderr)
        return 2
    settings = LocalSettings(
        host=args.host,
        smtp_port=args.smtp_port,
        http_port=args.http_port,
        aws_port=args.aws_port,
        mail_domain=args.mail_domain,
        max_message_bytes=args.max_message_bytes,
        sla_interval=args.sla_interval,
        url_prefix=args.url_prefix,
        state_dir=args.state_dir,
    )
    saved = args.state_dir / STATE_FILE
    source = args.state or (saved if saved.is_file() and not args.fresh else None)
    document = state.load(source) if source else None

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    began = time.perf_counter()
    stack = LocalStack(settings)
    try:
        info = stack.start(document)
    except OSError as error:
        print(
            f"cannot start: {error} (is another desk running? see {args.state_dir})",
            file=sys.stderr,
        )
        stack.stop()
        return 1
    ready = time.perf_counter() - began
    _banner(info, ready, source, stack.imported)

    if document is None and not args.no_seed:
        _seed(stack, args)
    print("\nready. Press Ctrl-C to stop.", flush=True)
    stop.wait()
    print("\nstopping...", flush=True)
    stack.stop(save_to=None if args.no_persist else saved)
    if not args.no_persist:
        print(f"saved the desk to {saved}; the next `helpdesk start` continues from it.")
    return 0


def _is_loopback(host: str) -> bool:
    # The local desk has a dev login and no TLS: it must never listen beyond this machine.
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _seed(stack: LocalStack, args: argparse.Namespace) -> None:
    from helpdesk_tools.local.seed import corpus_root, seed

    corpus = corpus_root(args.seed_path)
    if not corpus.is_dir():
        print(f"no corpus at {corpus}: starting empty (give one with --seed PATH).", flush=True)
        return
    print(f"seeding from {corpus} ...", flush=True)
    report = seed(stack, corpus, count=args.seed_count, progress=not args.quiet_seed)
    if report.articles:
        print(f"  knowledge base: {report.articles} articles ({report.kb_store})")
    if report.examples:
        print(f"  triage: {report.examples} labelled examples, teams billing/logistics/support")
    print(
        f"  mail: {report.mails_sent} delivered over SMTP, {report.mails_refused} refused, "
        f"{report.mails_per_second:.1f} mails/s from SMTP to ticket"
    )
    for note in report.notes:
        print(f"  {note}")
    print("  triage and acknowledgements go on in the background (see the log)")


def _banner(
    info: StackInfo, ready: float, source: Path | None, imported: dict[str, int] | None
) -> None:
    lines = [
        "",
        f"helpdesk is running locally (ready in {ready:.1f} s)",
        f"  customer portal  {info.portal_url}",
        f"  agent workspace  {info.agent_url}",
        f"  REST API         {info.api_url}  (sign in: POST api/auth/dev-login"
        ' {"agent_id": "a-1"})',
        f"  send mail to     {info.support_address} via SMTP {info.smtp_host}:{info.smtp_port}",
        "                   e.g. helpdesk send path/to/mail.eml",
        f"  sent mail        {info.outbox_url}  or  helpdesk outbox",
        "  tickets          helpdesk tickets list  /  helpdesk tickets show N",
        f"  AWS APIs (moto)  {info.endpoint}",
        "  stop             Ctrl-C (the desk is saved and restored on the next start)",
    ]
    if source is not None and imported is not None:
        lines.insert(
            2, f"  restored {imported['items']} items, {imported['objects']} objects from {source}"
        )
    print("\n".join(lines), flush=True)
