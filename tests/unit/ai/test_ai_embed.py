"""The embedders: MiniLM vectors are unit length and meaningful; Titan's shape is honoured."""

from __future__ import annotations

import io
import json

import boto3
import numpy as np
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from helpdesk.ai.embed import BedrockTitanEmbedder, OnnxEmbedder
from helpdesk.exceptions import ConfigurationError, EmbeddingError


def test_minilm_vectors_are_unit_length_float32_rows(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed(["My card has not arrived", "", "x" * 5000])

    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_requests(embedder: OnnxEmbedder) -> None:
    card, card_again, password = embedder.embed(
        [
            "My new card still has not arrived",
            "I am still waiting for my card to be delivered",
            "How do I reset my password?",
        ]
    )

    assert float(card @ card_again) > float(card @ password) + 0.3


def test_batching_sorted_by_length_keeps_the_input_order(embedder: OnnxEmbedder) -> None:
    texts = ["a much longer text about a printer that jams on every page", "short", "mid text"]

    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts])

    assert np.allclose(together, alone, atol=1e-4)


def test_no_texts_gives_an_empty_matrix(embedder: OnnxEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 384)


def test_a_missing_model_file_is_a_configuration_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HELPDESK_MODEL_DIR", str(tmp_path))

    with pytest.raises(ConfigurationError, match=r"model\.onnx"):
        OnnxEmbedder().embed(["hello"])


def _titan(dimension: int = 256) -> tuple[BedrockTitanEmbedder, Stubber]:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url="http://127.0.0.1:9",
    )
    return BedrockTitanEmbedder(client, dimension=dimension), Stubber(client)


def _titan_body(vector: list[float]) -> StreamingBody:
    # The documented InvokeModel response body of Titan Text Embeddings v2.
    raw = json.dumps(
        {"embedding": vector, "embeddingsByType": {"float": vector}, "inputTextTokenCount": 7}
    ).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_titan_request_carries_the_text_dimensions_and_normalise_flag() -> None:
    embedder, stubber = _titan()
    vector = [3.0, 4.0] + [0.0] * 254
    stubber.add_response(
        "invoke_model",
        {"body": _titan_body(vector), "contentType": "application/json"},
        {
            "modelId": "amazon.titan-embed-text-v2:0",
            "body": json.dumps(
                {"inputText": "printer is on fire", "dimensions": 256, "normalize": True}
            ),
            "contentType": "application/json",
            "accept": "application/json",
        },
    )

    with stubber:
        result = embedder.embed(["printer is on fire"])

    assert result.shape == (1, 256)
    assert result[0, :2] == pytest.approx([0.6, 0.8])
    stubber.assert_no_pending_responses()


def test_titan_error_becomes_an_embedding_error() -> None:
    embedder, stubber = _titan()
    stubber.add_client_error("invoke_model", "ThrottlingException", http_status_code=429)

    with stubber, pytest.raises(EmbeddingError):
        embedder.embed(["hello"])


def test_titan_refuses_a_dimension_it_does_not_offer() -> None:
    with pytest.raises(ConfigurationError, match="384"):
        _titan(384)
