"""`helpdesk sla explain SCENARIO.json`: the admin's what-if tool for SLA deadlines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from helpdesk.exceptions import SlaError, ValidationError
from helpdesk.sla.scenario import explain, load_scenario


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sla", help="explain SLA deadlines")
    inner = parser.add_subparsers(dest="sla_command", metavar="COMMAND")

    def usage(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)
    explain_parser = inner.add_parser(
        "explain",
        help="compute a ticket's deadlines from a scenario file and print them as JSON",
        description=(
            "Read a scenario (calendar, policy, events, now) and print, for first_response, "
            "next_response and resolution: due, met_at, breached, warned_at and "
            "business_minutes_taken, plus paused_minutes."
        ),
    )
    explain_parser.add_argument("scenario", metavar="SCENARIO.json", help="the scenario file")
    explain_parser.set_defaults(handler=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    """Print the scenario's answer; 1 for a malformed scenario (naming the field), 2 for a
    missing file."""
    path = Path(args.scenario)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        print(f"helpdesk sla explain: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        answer = explain(load_scenario(text))
    except ValidationError as error:
        print(f"helpdesk sla explain: invalid scenario: {error}", file=sys.stderr)
        return 1
    except SlaError as error:
        print(f"helpdesk sla explain: {error}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0
