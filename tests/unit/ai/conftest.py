"""Fixtures for the AI unit tests: one ONNX embedder per test session."""

from __future__ import annotations

import pytest

from helpdesk.ai.embed import OnnxEmbedder, shared_onnx_embedder


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    """The process-wide MiniLM embedder; the model loads once for the whole session."""
    model = shared_onnx_embedder()
    model.load()
    return model
