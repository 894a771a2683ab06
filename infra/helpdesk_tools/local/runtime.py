"""The functions of template.yaml, loaded by path and invoked as Lambda would invoke them.

Each function module is imported from its file under its own module name, when first invoked,
so that the local stack runs whichever handlers exist and says which are missing. One lock per
function makes each behave like a single warm Lambda container: one event at a time.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from helpdesk.exceptions import HelpdeskError
from helpdesk_tools.template import ROOT, Stack, load_template, resources_of

logger = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT = "123456789012"


class FunctionMissingError(HelpdeskError):
    """A function's handler file or attribute does not exist yet."""


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as `context`, with the attributes handlers read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before this invocation's timeout, never below zero."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class FunctionSpec:
    """One AWS::Serverless::Function: where its code is and how it is configured."""

    logical_id: str
    code_dir: Path
    module: str
    attribute: str
    memory_mb: int
    timeout_s: int


class LocalFunction:
    """A function loaded from its file on first use and invoked one event at a time."""

    # Told (logical id, milliseconds) after every invocation; `helpdesk cost` meters the
    # functions' billed duration this way.
    observers: ClassVar[list[Callable[[str, float], None]]] = []

    def __init__(self, spec: FunctionSpec, prefix: str = "helpdesk") -> None:
        self.spec = spec
        self.name = f"{prefix}-{spec.logical_id}"
        self._lock = threading.Lock()
        self._target: Any = None
        self.invocations = 0
        self.errors = 0
        self.busy_seconds = 0.0

    @property
    def path(self) -> Path:
        return self.spec.code_dir / f"{self.spec.module}.py"

    def available(self) -> bool:
        """True when the handler file exists (its attribute is checked on loading)."""
        return self.path.is_file()

    def load(self) -> Any:
        """The handler callable; raises FunctionMissingError when its file or name is absent."""
        if self._target is not None:
            return self._target
        if not self.path.is_file():
            raise FunctionMissingError(f"{self.path.relative_to(ROOT)} does not exist yet")
        module = _import_file(f"helpdesk_local_{self.spec.logical_id.lower()}", self.path)
        target = getattr(module, self.spec.attribute, None)
        if target is None:
            raise FunctionMissingError(
                f"{self.path.relative_to(ROOT)} has no attribute {self.spec.attribute}"
            )
        self._target = target
        from helpdesk_tools.local.logs import compact_powertools_loggers

        compact_powertools_loggers()
        return target

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler on `event` with a fresh context; returns what it returns.

        Raises FunctionMissingError when the handler is absent, and whatever the handler raises.
        """
        from helpdesk_tools.local import logs

        with self._lock:
            target = self.load()
            context = LambdaContext(self.name, self.spec.memory_mb, self.spec.timeout_s)
            self.invocations += 1
            logs.current.function = self.spec.logical_id.removesuffix("Function").lower()
            started = time.perf_counter()
            try:
                return target(event, context)
            except Exception:
                self.errors += 1
                raise
            finally:
                logs.current.function = None
                elapsed_ms = (time.perf_counter() - started) * 1000
                self.busy_seconds += elapsed_ms / 1000
                for observe in LocalFunction.observers:
                    observe(self.spec.logical_id, elapsed_ms)


def forget_process_caches() -> int:
    """Clear every cached factory of the `helpdesk` package in this process (settings, clients,
    services built from them); returns how many were cleared.

    Several desks run one after another in one process (tests, `helpdesk cost`): a service
    built for one would otherwise keep that desk's endpoint and table names.
    """
    cleared = 0
    for name, module in list(sys.modules.items()):
        if name != "helpdesk" and not name.startswith("helpdesk."):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()
                cleared += 1
    return cleared


def _import_file(name: str, path: Path) -> ModuleType:
    # Lambda puts the function's code directory on the path; its sibling modules import so.
    code_dir = str(path.parent)
    if code_dir not in sys.path:
        sys.path.append(code_dir)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FunctionMissingError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return module


def function_specs(template: dict[str, Any] | None = None) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function of the template, by logical id."""
    template = template or load_template()
    globals_ = template.get("Globals", {}).get("Function", {})
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in resources_of(template, "AWS::Serverless::Function").items():
        props = resource["Properties"]
        module, attribute = props["Handler"].rsplit(".", 1)
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=ROOT / props["CodeUri"],
            module=module,
            attribute=attribute,
            memory_mb=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
            timeout_s=int(props.get("Timeout", globals_.get("Timeout", 3))),
        )
    return specs


def function_environment(
    stack: Stack, endpoint: str, mail_domain: str, template: dict[str, Any] | None = None
) -> dict[str, str]:
    """The environment every local function runs with: the template's variables, resolved
    against the local stack and the parameters' defaults, pointed at the loopback endpoint."""
    template = template or load_template()
    # A parameter without a default (a secret the deployer types in) stays unset locally, so
    # the setting's own local default applies rather than an empty string.
    params = {
        name: str(spec["Default"])
        for name, spec in template["Parameters"].items()
        if "Default" in spec
    }
    params["MailDomain"] = mail_domain
    environment: dict[str, str] = {}
    globals_ = template.get("Globals", {}).get("Function", {})
    variables = [globals_.get("Environment", {}).get("Variables", {})]
    for resource in resources_of(template, "AWS::Serverless::Function").values():
        variables.append(resource["Properties"].get("Environment", {}).get("Variables", {}))
    for group in variables:
        for name, value in group.items():
            resolved = _resolve(value, params)
            if resolved is not None:
                environment[name] = resolved
    environment.update(stack.environment(mail_domain))
    environment.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            # NOTE: no X-Ray daemon and no CloudWatch locally; traces and metrics stay off.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "HELPDESK_TRIAGE_FAILURE_QUEUE": stack.queue_urls.get("TriageFailureQueue", ""),
            "HELPDESK_LOCAL": "true",
        }
    )
    return environment


def _resolve(value: Any, params: dict[str, str]) -> str | None:
    # Only plain values and !Ref to a parameter; resource references come from the stack.
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | bool):
        return str(value)
    if isinstance(value, dict) and "Ref" in value and value["Ref"] in params:
        return params[value["Ref"]]
    return None
