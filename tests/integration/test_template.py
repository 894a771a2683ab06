"""template.yaml: it lints, SAM validates it, it builds, and what it builds fits in Lambda."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from helpdesk_tools.benchmarks.package import LIMIT_MB, find_python312, sam_build, sizes
from helpdesk_tools.template import load_template, resources_of

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv-sam" / "bin" / "sam"
needs_sam = pytest.mark.skipif(
    not SAM.exists(), reason="the SAM CLI is installed by ./infra/bootstrap.sh --sam (make test)"
)


def test_template_passes_cfn_lint() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cfn-lint"), "template.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@needs_sam
def test_template_passes_sam_validate_lint() -> None:
    result = subprocess.run(
        [str(SAM), "validate", "--lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, SAM_CLI_TELEMETRY="0"),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


@needs_sam
@pytest.mark.slow
@pytest.mark.skipif(
    find_python312() is None, reason="sam build without Docker needs a python3.12 on PATH"
)
def test_sam_build_builds_every_function_within_lambdas_size_limit(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"

    sam_build(build_dir)

    template = load_template()
    functions = resources_of(template, "AWS::Serverless::Function")
    for name in functions:
        assert (build_dir / name).is_dir(), f"{name} was not built"
    assert (build_dir / "SharedLayer" / "python" / "helpdesk" / "__init__.py").exists()
    assert not (build_dir / "SharedLayer" / "python" / "botocore").exists()
    for name, _own, _layers, total in sizes(build_dir):
        assert total < LIMIT_MB, f"{name} is {total:.0f} MB unzipped with its layers"


def test_every_function_runs_python_3_12_on_arm64() -> None:
    template = load_template()
    globals_: dict[str, Any] = template["Globals"]["Function"]

    assert globals_["Runtime"] == "python3.12"
    assert globals_["Architectures"] == ["arm64"]
    assert len(resources_of(template, "AWS::Serverless::Function")) >= 4


def test_no_iam_statement_grants_a_wildcard_action_on_data() -> None:
    template = load_template()
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        for policy in function["Properties"].get("Policies", []):
            for statement in _statements(policy):
                actions = statement.get("Action", [])
                actions = [actions] if isinstance(actions, str) else actions
                for action in actions:
                    service, _, verb = str(action).partition(":")
                    assert verb != "*", f"{name} grants {action}"
                    assert service not in {"dynamodb", "s3"} or "*" not in verb, name


def _statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, dict) and "Statement" in policy:
        return list(policy["Statement"])
    if isinstance(policy, dict) and "Fn::If" in policy:
        return [s for branch in policy["Fn::If"][1:] for s in _statements(branch)]
    return []


def test_resources_created_from_the_template_match_its_table_design(stack: Any, aws: Any) -> None:
    described = aws.client("dynamodb").describe_table(TableName=stack.tables["Table"])["Table"]

    indexes = {index["IndexName"] for index in described["GlobalSecondaryIndexes"]}
    assert indexes == {"GSI1", "GSI2", "GSI3", "GSI4"}
    assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert set(stack.buckets) == {"MailBucket", "AttachmentBucket"}
    assert "OutboundQueue" in stack.queue_urls
    assert stack.user_pools["AgentUserPool"]
