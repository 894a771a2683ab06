"""The help desk's shared package: domain, data access, mail, SLA, search and AI."""

__version__ = "0.1.0"
