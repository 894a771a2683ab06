"""Subcommands of `helpdesk`: every module here with a `register(subparsers)` is one."""
