"""The local endpoint's transactions and queries behave as DynamoDB's with the shortcuts the
local stack installs in moto (helpdesk_tools.local.aws): all or nothing, key order, paging."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def _stream_records(aws: Any, table_name: str) -> list[dict[str, Any]]:
    streams = aws.client("dynamodbstreams")
    arn = aws.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def test_a_failed_condition_undoes_the_whole_transaction(aws: Any, stack: Any, table: Any) -> None:
    name = stack.tables["Table"]
    table.put_item(Item={"PK": "TICKET#1", "SK": "TICKET", "version": 1, "status": "open"})
    before = len(_stream_records(aws, name))
    client = aws.client("dynamodb")

    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"PK": {"S": "TICKET#1"}, "SK": {"S": "TICKET"}},
                        "UpdateExpression": "SET #s = :s",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":s": {"S": "solved"}},
                    }
                },
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"PK": {"S": "TICKET#1"}, "SK": {"S": "AUDIT#1"}},
                    }
                },
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"PK": {"S": "COUNTER"}, "SK": {"S": "ticket"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    ticket = table.get_item(Key={"PK": "TICKET#1", "SK": "TICKET"})["Item"]
    assert ticket["status"] == "open"
    assert "Item" not in table.get_item(Key={"PK": "TICKET#1", "SK": "AUDIT#1"})
    assert len(_stream_records(aws, name)) == before


def test_a_successful_transaction_applies_every_write(aws: Any, stack: Any, table: Any) -> None:
    name = stack.tables["Table"]
    table.put_item(Item={"PK": "TICKET#1", "SK": "TICKET", "version": 1})

    aws.client("dynamodb").transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": name,
                    "Key": {"PK": {"S": "TICKET#1"}, "SK": {"S": "TICKET"}},
                    "UpdateExpression": "SET version = :two",
                    "ConditionExpression": "version = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":two": {"N": "2"}},
                }
            },
            {"Put": {"TableName": name, "Item": {"PK": {"S": "TICKET#1"}, "SK": {"S": "A#1"}}}},
        ]
    )

    assert table.get_item(Key={"PK": "TICKET#1", "SK": "TICKET"})["Item"]["version"] == 2
    assert "Item" in table.get_item(Key={"PK": "TICKET#1", "SK": "A#1"})


def test_queries_read_their_partition_in_key_order_and_page(table: Any) -> None:
    for sort_key in ("MSG#3", "MSG#1", "TICKET", "MSG#2"):
        table.put_item(Item={"PK": "TICKET#5", "SK": sort_key})
    table.put_item(Item={"PK": "TICKET#6", "SK": "MSG#0"})

    first = table.query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :msg)",
        ExpressionAttributeValues={":pk": "TICKET#5", ":msg": "MSG#"},
        ScanIndexForward=False,
        Limit=2,
    )
    rest = table.query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :msg)",
        ExpressionAttributeValues={":pk": "TICKET#5", ":msg": "MSG#"},
        ScanIndexForward=False,
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )

    assert [item["SK"] for item in first["Items"]] == ["MSG#3", "MSG#2"]
    assert [item["SK"] for item in rest["Items"]] == ["MSG#1"]


def test_index_queries_find_every_match_in_index_order(table: Any) -> None:
    for number, created in ((1, "2026-12-03"), (2, "2026-12-01"), (3, "2026-12-02")):
        table.put_item(
            Item={
                "PK": f"TICKET#{number}",
                "SK": "TICKET",
                "GSI1PK": "REQUESTER#ana@example.org",
                "GSI1SK": created,
            }
        )
    table.put_item(
        Item={"PK": "TICKET#4", "SK": "TICKET", "GSI1PK": "REQUESTER#bo@example.org", "GSI1SK": "x"}
    )

    found = table.query(
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": "REQUESTER#ana@example.org"},
    )

    assert [item["PK"] for item in found["Items"]] == ["TICKET#2", "TICKET#3", "TICKET#1"]
