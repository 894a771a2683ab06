"""Fixtures for the knowledge-base unit tests: the real MiniLM embedder, loaded once."""

from __future__ import annotations

import pytest

from helpdesk.ai.embed import OnnxEmbedder, shared_onnx_embedder


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    model = shared_onnx_embedder()
    model.load()
    return model
