"""The meter counts what AWS would bill, on a small sequence of calls whose counts are known."""

from __future__ import annotations

from typing import Any

from helpdesk_tools.metering import Meter, item_size


def test_item_size_follows_dynamodbs_rules_for_names_and_values() -> None:
    # "PK"(2) + "TICKET#1"(8) + "n"(1) + number 123 -> (3 digits + 1)//2 + 1 = 3
    assert item_size({"PK": {"S": "TICKET#1"}, "n": {"N": "123"}}) == 2 + 8 + 1 + 3


def test_meter_counts_dynamodb_units_s3_ses_and_events_of_a_known_replay(
    aws: Any, stack: Any
) -> None:
    meter = Meter()
    meter.attach(aws)
    dynamodb = aws.client("dynamodb")
    table = stack.tables["Table"]
    small = {"PK": {"S": "A"}, "SK": {"S": "B"}, "x": {"S": "y" * 100}}
    large = {"PK": {"S": "A"}, "SK": {"S": "C"}, "x": {"S": "y" * 3000}}
    indexed = {"PK": {"S": "A"}, "SK": {"S": "D"}, "GSI1PK": {"S": "R"}, "GSI1SK": {"S": "1"}}

    dynamodb.put_item(TableName=table, Item=small)  # 1 unit
    dynamodb.put_item(TableName=table, Item=large)  # 3 KB -> 3 units
    dynamodb.put_item(TableName=table, Item=indexed)  # 1 unit + 1 for GSI1
    dynamodb.get_item(TableName=table, Key={"PK": {"S": "A"}, "SK": {"S": "B"}})  # 0.5
    dynamodb.query(  # ~3.2 KB in one 4 KB read, strongly consistent: 1
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "A"}},
        ConsistentRead=True,
    )
    s3 = aws.client("s3")
    s3.put_object(Bucket=stack.buckets["MailBucket"], Key="inbound/x", Body=b"z" * 2048)
    aws.client("events").put_events(
        Entries=[
            {"Source": "helpdesk", "DetailType": "t", "Detail": "{}", "EventBusName": "default"}
        ]
        * 2
    )
    ses = aws.client("sesv2")
    # SES identities are account-wide in the shared endpoint: use one of this test's own.
    sender = f"meter@{stack.prefix}.example"
    aws.client("ses").verify_email_identity(EmailAddress=sender)
    ses.send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": ["ada@example.org"]},
        Content={"Raw": {"Data": b"Subject: hi\r\n\r\nhello"}},
    )
    aws.client("ses").delete_identity(Identity=sender)
    meter.record_invocation("IngestFunction", 12.2)
    meter.record_inbound_mail(300 * 1024)

    usage = meter.usage
    assert usage.dynamodb_write_units == 1 + 3 + 2
    assert usage.dynamodb_read_units == 0.5 + 1
    assert usage.s3_requests["PutObject"] == 1
    assert usage.s3_bytes_put == 2048
    assert usage.eventbridge_events == 2
    assert usage.ses_mails_out == 1
    assert usage.ses_bytes_out == len(b"Subject: hi\r\n\r\nhello")
    assert usage.lambda_billed_ms["IngestFunction"] == 13
    assert (usage.ses_mails_in, usage.ses_chunks_in) == (1, 2)
