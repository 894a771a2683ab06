"""The whole desk on one machine: AWS's APIs on loopback, with SMTP, HTTP, the stream, the
outbound queue and the schedule feeding the same handlers that run in Lambda.

`LocalStack(settings).start()` returns once every port is listening; `stop()` drains the mail
in flight and shuts everything down. The running stack describes itself in `.local/stack.json`
so that other commands (`helpdesk send`, `tickets`, `export`...) can find it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from helpdesk_tools.local import state
from helpdesk_tools.local.aws import LocalAws
from helpdesk_tools.local.gateway import Gateway
from helpdesk_tools.local.outbox import SentMail, read_backend
from helpdesk_tools.local.pollers import QueuePoller, Schedule, StreamPoller
from helpdesk_tools.local.runtime import (
    ACCOUNT,
    REGION,
    FunctionMissingError,
    LocalFunction,
    function_environment,
    function_specs,
)
from helpdesk_tools.local.settings import STACK_FILE, STATE_DIR, LocalSettings
from helpdesk_tools.local.smtp import Inbox, SmtpServer
from helpdesk_tools.template import Stack, create_stack, load_template

logger = logging.getLogger(__name__)
_LOG = {"component": "stack"}

LOCAL_AGENT_ID = "a-1"


@dataclass
class StackInfo:
    """What another process needs to reach a running local stack."""

    endpoint: str
    gateway: str
    smtp_host: str
    smtp_port: int
    mail_domain: str
    support_address: str
    stage: str
    prefix: str
    pid: int
    started_at: str
    tables: dict[str, str]
    buckets: dict[str, str]
    queue_urls: dict[str, str]

    @property
    def portal_url(self) -> str:
        return f"{self.gateway}{self.prefix}/"

    @property
    def agent_url(self) -> str:
        return f"{self.gateway}{self.prefix}/agent"

    @property
    def api_url(self) -> str:
        return f"{self.gateway}{self.prefix}/api/"

    @property
    def outbox_url(self) -> str:
        return f"{self.gateway}/local/outbox"

    def session(self) -> boto3.session.Session:
        """A boto3 session aimed at this stack's loopback endpoint (sets AWS_ENDPOINT_URL)."""
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": REGION,
            }
        )
        return boto3.session.Session(
            region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local"
        )


def read_stack_info(state_dir: Path = STATE_DIR) -> StackInfo:
    """The running stack's description; raises FileNotFoundError when none is running."""
    path = state_dir / STACK_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no local stack is running ({path} is absent): run helpdesk start")
    info = StackInfo(**json.loads(path.read_text(encoding="utf-8")))
    if not _alive(info.pid):
        raise FileNotFoundError(f"the local stack in {path} (pid {info.pid}) is not running")
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalStack:
    """Every part of the desk, started in order and stopped in reverse."""

    def __init__(self, settings: LocalSettings | None = None) -> None:
        self.settings = settings or LocalSettings()
        self.aws: LocalAws | None = None
        self.stack: Stack | None = None
        self.session: Any = None
        self.functions: dict[str, LocalFunction] = {}
        self.inbox: Inbox | None = None
        self.smtp: SmtpServer | None = None
        self.gateway: Gateway | None = None
        self.stream: StreamPoller | None = None
        self.outbound: QueuePoller | None = None
        self.schedule: Schedule | None = None
        self.automation_stream: StreamPoller | None = None
        self.automation_schedule: Schedule | None = None
        self.info: StackInfo | None = None
        self.imported: dict[str, int] | None = None
        self._previous_env: dict[str, str | None] = {}

    # -- start ----------------------------------------------------------------------------

    def start(self, state_document: dict[str, Any] | None = None) -> StackInfo:
        """Bring everything up; with `state_document`, restore it before any event flows.
        Returns where to reach the stack."""
        settings = self.settings
        template = load_template()
        self.aws = LocalAws(settings.host, settings.aws_port).start()
        self._set_environment({"AWS_ENDPOINT_URL": self.aws.endpoint, **_credentials()})
        self.session = boto3.session.Session(region_name=REGION)
        self.stack = create_stack(self.session, prefix=settings.prefix)
        self._verify_mail_identity()
        self.functions = {
            logical_id: LocalFunction(spec, settings.prefix)
            for logical_id, spec in function_specs(template).items()
        }
        self._bind_gateway()
        assert self.gateway is not None
        environment = function_environment(
            self.stack, self.aws.endpoint, settings.mail_domain, template
        )
        environment.update(_local_portal_environment(self.gateway.url + self.gateway.prefix))
        self._set_environment(environment)
        _forget_cached_clients()
        backlog: dict[str, Any] = {}
        if state_document is not None:
            self.imported = state.import_state(
                self.session, state_document, self.stack.tables, self.stack.buckets
            )
            backlog = state_document.get("in_flight") or {}
            self._requeue(backlog.get("outbound", []))
            logger.info("state restored", extra={**_LOG, **self.imported})
        self._ensure_local_agent()
        self._warm_functions()
        self._start_pollers(backlog.get("triage", []))
        self._start_inbound()
        self.gateway.start()
        self.info = self._describe()
        self._write_info(self.info)
        return self.info

    def _set_environment(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._previous_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _verify_mail_identity(self) -> None:
        # SES sends only from a verified identity; moto verifies at once.
        domain = self.settings.mail_domain
        assert self.session is not None
        self.session.client("sesv2").create_email_identity(EmailIdentity=domain)
        ses = self.session.client("ses")
        ses.verify_domain_identity(Domain=domain)
        ses.verify_email_identity(EmailAddress=f"support@{domain}")

    def _warm_functions(self) -> None:
        for logical_id, function in self.functions.items():
            try:
                function.load()
            except FunctionMissingError as error:
                logger.warning("function missing", extra={**_LOG, "reason": str(error)})
            except Exception:
                # A handler that fails to import is retried on its first event.
                logger.exception(
                    "function failed to load", extra={**_LOG, "function_id": logical_id}
                )

    def _requeue(self, bodies: list[str]) -> None:
        assert self.stack is not None and self.session is not None
        sqs = self.session.client("sqs")
        for body in bodies:
            sqs.send_message(QueueUrl=self.stack.queue_urls["OutboundQueue"], MessageBody=body)

    def _start_pollers(self, triage_backlog: list[dict[str, Any]]) -> None:
        settings = self.settings
        assert self.stack is not None and self.session is not None
        table = self.stack.tables["Table"]
        stream_arn = self.session.client("dynamodb").describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        triage = self.functions["TriageFunction"]
        self.stream = StreamPoller(
            streams=self.session.client("dynamodbstreams"),
            sqs=self.session.client("sqs"),
            stream_arn=stream_arn,
            failure_queue_url=self.stack.queue_urls["TriageFailureQueue"],
            invoke=triage.invoke,
            function_available=triage.available,
            max_retries=settings.stream_max_retries,
            retry_delay=settings.stream_retry_delay,
            interval=settings.poll_interval,
            backlog=triage_backlog,
        )
        sender = self.functions["SenderFunction"]
        self.outbound = QueuePoller(
            sqs=self.session.client("sqs"),
            queue_url=self.stack.queue_urls["OutboundQueue"],
            invoke=sender.invoke,
            function_available=sender.available,
            interval=settings.poll_interval,
            visibility_timeout=settings.outbound_visibility_timeout,
        )
        sla = self.functions["SlaFunction"]
        self.schedule = Schedule(
            invoke=sla.invoke, interval=settings.sla_interval, rule=f"{settings.prefix}-sla-sweep"
        )
        automation = self.functions["AutomationFunction"]
        self.automation_stream = StreamPoller(
            streams=self.session.client("dynamodbstreams"),
            sqs=self.session.client("sqs"),
            stream_arn=stream_arn,
            failure_queue_url=self.stack.queue_urls["AutomationFailureQueue"],
            invoke=automation.invoke,
            function_available=automation.available,
            batch_size=50,
            max_retries=settings.stream_max_retries,
            retry_delay=settings.stream_retry_delay,
            interval=settings.poll_interval,
        )
        self.automation_schedule = Schedule(
            invoke=automation.invoke,
            interval=settings.sla_interval,
            rule=f"{settings.prefix}-time-rules",
        )
        for poller in self._pollers():
            poller.start()

    def _pollers(self) -> list[Any]:
        """Every poller and timer that feeds a function, in start order."""
        found = [
            self.stream,
            self.automation_stream,
            self.outbound,
            self.schedule,
            self.automation_schedule,
        ]
        return [poller for poller in found if poller is not None]

    def _start_inbound(self) -> None:
        settings = self.settings
        assert self.stack is not None and self.session is not None and self.aws is not None
        ingest = self.functions["IngestFunction"]
        self.inbox = Inbox(
            s3=self.session.client("s3"),
            bucket=self.stack.buckets["MailBucket"],
            mail_domain=settings.mail_domain,
            invoke=ingest.invoke,
            function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{ingest.name}",
            on_failure=self._ingest_dead_letter,
        )
        self.inbox.start()
        self.smtp = SmtpServer(
            self.inbox, settings.host, settings.smtp_port, settings.max_message_bytes
        )
        self.smtp.start()

    def _bind_gateway(self) -> None:
        self.gateway = Gateway(
            host=self.settings.host,
            port=self.settings.http_port,
            invoke=self.functions["PortalFunction"].invoke,
            outbox=self.outbox,
            prefix=self.settings.url_prefix,
        )

    def _ensure_local_agent(self) -> None:
        # The dev login signs in agents from the configuration; a fresh desk gets one admin.
        from helpdesk.data.config import ConfigRepository
        from helpdesk.domain.models import Agent, Role
        from helpdesk.exceptions import NotFoundError

        assert self.stack is not None
        agents = ConfigRepository(
            self.session.resource("dynamodb").Table(self.stack.tables["Table"])
        )
        try:
            agents.get("agents", LOCAL_AGENT_ID, Agent)
        except NotFoundError:
            agent = Agent(
                id=LOCAL_AGENT_ID,
                email=f"agent@{self.settings.mail_domain}",
                name="Local Agent",
                role=Role.ADMIN,
            )
            agents.put("agents", LOCAL_AGENT_ID, agent)
            logger.info("local admin agent created", extra={**_LOG, "agent_id": LOCAL_AGENT_ID})

    def _ingest_dead_letter(self, event: dict[str, Any], error: BaseException) -> None:
        # The function's DeadLetterQueue receives the event of a failed asynchronous invocation.
        assert self.stack is not None and self.session is not None
        self.session.client("sqs").send_message(
            QueueUrl=self.stack.queue_urls["IngestDeadLetterQueue"],
            MessageBody=json.dumps(event),
            MessageAttributes={
                "ErrorMessage": {"DataType": "String", "StringValue": str(error)[:1000] or "-"}
            },
        )

    def _describe(self) -> StackInfo:
        assert self.aws and self.gateway and self.smtp and self.stack
        return StackInfo(
            endpoint=self.aws.endpoint,
            gateway=self.gateway.url,
            smtp_host=self.smtp.host,
            smtp_port=self.smtp.port,
            mail_domain=self.settings.mail_domain,
            support_address=f"support@{self.settings.mail_domain}",
            stage=self.gateway.stage,
            prefix=self.gateway.prefix,
            pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(),
            tables=dict(self.stack.tables),
            buckets=dict(self.stack.buckets),
            queue_urls=dict(self.stack.queue_urls),
        )

    def _write_info(self, info: StackInfo) -> None:
        directory = self.settings.state_dir
        directory.mkdir(parents=True, exist_ok=True)
        (directory / STACK_FILE).write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")

    # -- while running --------------------------------------------------------------------

    def outbox(self) -> list[SentMail]:
        """Mail sent through SES so far (moto serves this process, so read its backend)."""
        return read_backend(ACCOUNT, REGION)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until received mail is ingested and the stream and queue are drained."""
        deadline = time.monotonic() + timeout
        assert self.inbox and self.stream and self.outbound
        if not self.inbox.wait_drained(timeout):
            return False
        # Two quiet polls in a row: work caused by the last step has been picked up.
        pollers = [self.stream, self.outbound, self.stream]
        if self.automation_stream is not None:
            pollers.append(self.automation_stream)
        for poller in pollers:
            poller.idle.clear()
            if not poller.idle.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def export(self) -> dict[str, Any]:
        """The desk's state as a document (see helpdesk_tools.local.state)."""
        assert self.stack is not None
        return state.export_state(self.session, self.stack.tables, self.stack.buckets)

    # -- stop -----------------------------------------------------------------------------

    def _in_flight(self) -> dict[str, Any]:
        # What Lambda would still deliver after a pause: stream records triage has not had and
        # mail waiting in the outbound queue. The next start hands them on.
        assert self.stack is not None and self.session is not None
        triage = self.stream.backlog() if self.stream is not None else []
        sqs = self.session.client("sqs")
        url = self.stack.queue_urls["OutboundQueue"]
        outbound: list[str] = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            outbound.extend(message["Body"] for message in messages)
        return {"triage": triage, "outbound": outbound}

    def stop(self, save_to: Path | None = None) -> None:
        """Stop taking mail, finish what is in flight, save the state to `save_to` if given,
        and stop every part."""
        began = time.perf_counter()
        if self.smtp is not None:
            self.smtp.stop()
        if self.inbox is not None:
            self.inbox.wait_drained(30)
            self.inbox.stop()
        if self.gateway is not None:
            self.gateway.stop()
        for poller in self._pollers():
            poller.stop()
        logger.info(
            "stopped taking events",
            extra={**_LOG, "seconds": round(time.perf_counter() - began, 2)},
        )
        if save_to is not None and self.stack is not None:
            document = self.export()
            document["in_flight"] = self._in_flight()
            state.save(document, save_to)
            logger.info(
                "state saved",
                extra={
                    **_LOG,
                    "path": str(save_to),
                    "triage_backlog": len(document["in_flight"]["triage"]),
                    "outbound_queued": len(document["in_flight"]["outbound"]),
                },
            )
        info_file = self.settings.state_dir / STACK_FILE
        if self.info is not None and info_file.is_file():
            current = json.loads(info_file.read_text(encoding="utf-8"))
            if current.get("pid") == os.getpid() and current.get("gateway") == self.info.gateway:
                info_file.unlink()
        if self.aws is not None:
            self.aws.stop()
        for name, value in self._previous_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _forget_cached_clients()


def _local_portal_environment(public_url: str) -> dict[str, str]:
    # The portal's local-only switches: the dev login, links to this gateway, plain-HTTP cookies.
    return {
        "HELPDESK_DEV_LOGIN": "1",
        "HELPDESK_PUBLIC_URL": public_url,
        "HELPDESK_SECURE_COOKIES": "false",
    }


def _forget_cached_clients() -> None:
    # Clients and services built earlier in this process would still aim at an earlier desk.
    from helpdesk_tools.local.runtime import forget_process_caches

    forget_process_caches()


def _credentials() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
