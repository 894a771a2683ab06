"""The portal function: the Chalice app behind the REST API (template Handler: app.app).

Routes, authentication and error mapping live in helpdesk.portal; the web UI's files are in
./static next to this module.
"""

from __future__ import annotations

from pathlib import Path

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from helpdesk.portal.application import create_app

logger = Logger(service="helpdesk-portal")
copy_config_to_registered_loggers(source_logger=logger, include={"helpdesk"})

app = create_app(Path(__file__).resolve().parent / "static")
