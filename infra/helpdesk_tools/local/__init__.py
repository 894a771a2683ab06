"""The local stack: AWS's APIs on loopback and the pieces that stand in for SES, API Gateway,
the stream mapping and the schedule, feeding the same handlers that run in Lambda."""
