"""The Anthropic API key comes from Secrets Manager (moto), as a plain string or JSON."""

from __future__ import annotations

import json

import pytest

from helpdesk.ai.triage import api_key_from_secret
from helpdesk.exceptions import TriageError


def test_the_key_is_read_from_a_plain_or_json_secret(aws) -> None:
    client = aws.client("secretsmanager")
    plain = client.create_secret(Name="llm-plain", SecretString=" sk-plain \n")["ARN"]
    as_json = client.create_secret(
        Name="llm-json", SecretString=json.dumps({"api_key": "sk-json"})
    )["ARN"]

    assert api_key_from_secret(client, plain) == "sk-plain"
    assert api_key_from_secret(client, as_json) == "sk-json"


def test_a_missing_or_malformed_secret_is_a_triage_error_that_names_no_value(aws) -> None:
    client = aws.client("secretsmanager")
    wrong = client.create_secret(Name="llm-wrong", SecretString='{"token": "sk-hidden"}')["ARN"]

    with pytest.raises(TriageError) as missing:
        api_key_from_secret(client, "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope")
    with pytest.raises(TriageError) as malformed:
        api_key_from_secret(client, wrong)

    assert "sk-hidden" not in str(malformed.value)
    assert "cannot read" in str(missing.value)
