"""Read template.yaml and create its tables, buckets, queues, bus and user pool on an endpoint.

The tests and the local stack both build their resources here, from the same template that
deploys to AWS, so that the two cannot drift apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short-form tags as {"Fn::X": value}."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data, with intrinsic functions as one-key dicts."""
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one CloudFormation type, by logical id."""
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


@dataclass
class Stack:
    """Physical names of what was created, by logical id."""

    prefix: str
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    buses: dict[str, str] = field(default_factory=dict)
    user_pools: dict[str, str] = field(default_factory=dict)
    user_pool_clients: dict[str, str] = field(default_factory=dict)

    def environment(self, mail_domain: str = "example.com") -> dict[str, str]:
        """The functions' environment variables, as template.yaml's Globals set them."""
        return {
            "HELPDESK_TABLE": self.tables["Table"],
            "HELPDESK_MAIL_BUCKET": self.buckets["MailBucket"],
            "HELPDESK_ATTACHMENT_BUCKET": self.buckets["AttachmentBucket"],
            "HELPDESK_EVENT_BUS": self.buses.get("EventBus", "default"),
            "HELPDESK_MAIL_DOMAIN": mail_domain,
            "HELPDESK_SUPPORT_ADDRESS": f"support@{mail_domain}",
            "HELPDESK_OUTBOUND_QUEUE": self.queue_urls.get("OutboundQueue", ""),
            "HELPDESK_USER_POOL_ID": self.user_pools.get("AgentUserPool", ""),
            "HELPDESK_USER_POOL_CLIENT_ID": self.user_pool_clients.get("AgentUserPoolClient", ""),
        }


def create_stack(session: Any, prefix: str = "helpdesk", path: Path = TEMPLATE) -> Stack:
    """Create every table, bucket, queue, event bus and user pool the template declares."""
    template = load_template(path)
    stack = Stack(prefix=prefix)
    _create_tables(session, template, stack)
    _create_buckets(session, template, stack)
    _create_queues(session, template, stack)
    _create_buses(session, template, stack)
    _create_user_pools(session, template, stack)
    return stack


def _name(prefix: str, logical_id: str) -> str:
    return f"{prefix}-{logical_id}".lower()


def _create_tables(session: Any, template: dict[str, Any], stack: Stack) -> None:
    client = session.client("dynamodb")
    for logical_id, resource in resources_of(template, "AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        name = _name(stack.prefix, logical_id)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        stream = props.get("StreamSpecification")
        if stream:
            kwargs["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        client.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        stack.tables[logical_id] = name


def _create_buckets(session: Any, template: dict[str, Any], stack: Stack) -> None:
    client = session.client("s3")
    for logical_id, resource in resources_of(template, "AWS::S3::Bucket").items():
        props = resource.get("Properties", {})
        name = _name(stack.prefix, logical_id)
        client.create_bucket(Bucket=name)
        encryption = props.get("BucketEncryption")
        if encryption:
            client.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": rule[
                                "ServerSideEncryptionByDefault"
                            ]
                        }
                        for rule in encryption["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        block = props.get("PublicAccessBlockConfiguration")
        if block:
            client.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        stack.buckets[logical_id] = name


def _create_queues(session: Any, template: dict[str, Any], stack: Stack) -> None:
    client = session.client("sqs")
    queues = resources_of(template, "AWS::SQS::Queue")
    # Dead-letter queues first, so that a redrive policy can name their ARN.
    ordered = sorted(
        queues, key=lambda logical_id: "RedrivePolicy" in queues[logical_id].get("Properties", {})
    )
    for logical_id in ordered:
        props = queues[logical_id].get("Properties", {})
        name = _name(stack.prefix, logical_id)
        attributes: dict[str, str] = {}
        if "VisibilityTimeout" in props:
            attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
        if "MessageRetentionPeriod" in props:
            attributes["MessageRetentionPeriod"] = str(props["MessageRetentionPeriod"])
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            target_url = stack.queue_urls[target]
            arn = client.get_queue_attributes(QueueUrl=target_url, AttributeNames=["QueueArn"])
            attributes["RedrivePolicy"] = (
                f'{{"deadLetterTargetArn": "{arn["Attributes"]["QueueArn"]}", '
                f'"maxReceiveCount": "{redrive["maxReceiveCount"]}"}}'
            )
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        stack.queues[logical_id] = name
        stack.queue_urls[logical_id] = url


def _create_buses(session: Any, template: dict[str, Any], stack: Stack) -> None:
    client = session.client("events")
    for logical_id in resources_of(template, "AWS::Events::EventBus"):
        name = _name(stack.prefix, logical_id)
        client.create_event_bus(Name=name)
        stack.buses[logical_id] = name


def _create_user_pools(session: Any, template: dict[str, Any], stack: Stack) -> None:
    client = session.client("cognito-idp")
    pools = resources_of(template, "AWS::Cognito::UserPool")
    for logical_id in pools:
        pool_id = client.create_user_pool(PoolName=_name(stack.prefix, logical_id))["UserPool"][
            "Id"
        ]
        stack.user_pools[logical_id] = pool_id
    for logical_id, resource in resources_of(template, "AWS::Cognito::UserPoolClient").items():
        pool = resource["Properties"]["UserPoolId"]["Ref"]
        response = client.create_user_pool_client(
            UserPoolId=stack.user_pools[pool], ClientName=_name(stack.prefix, logical_id)
        )
        stack.user_pool_clients[logical_id] = response["UserPoolClient"]["ClientId"]
    for resource in resources_of(template, "AWS::Cognito::UserPoolGroup").values():
        props = resource["Properties"]
        client.create_group(
            UserPoolId=stack.user_pools[props["UserPoolId"]["Ref"]], GroupName=props["GroupName"]
        )
