"""The similarity index port, and its default adapter: an exact-cosine numpy index in memory.

Vectors are unit length (see `embed`), so cosine similarity is a dot product. Metadata values
are plain scalars (str, int, float, bool) so that filters mean the same thing here and in
OpenSearch. A filter maps a metadata field to:

- a scalar: the field equals it;
- a list, tuple or set: the field equals one of them;
- a `Range`: the field is a number within the bounds (`created_at` in epoch seconds, say).

At rest the embedded index is one compressed `.npz` (float16 vectors, ids, metadata as JSON):
half the bytes of float32, and the search itself stays float32 in memory, because float16
arithmetic in numpy is 10-30x slower.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from helpdesk.exceptions import IndexStoreError, ValidationError

logger = logging.getLogger(__name__)

Scalar = str | int | float | bool
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Range:
    """A numeric range filter; either bound may be left open."""

    gte: float | None = None
    lte: float | None = None


Filters = Mapping[str, Any]


@dataclass(frozen=True)
class Hit:
    """One result of a query: the id, its cosine similarity, and the metadata stored with it."""

    id: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


class SimilarityIndex(Protocol):
    """Stores unit vectors under ids and returns the nearest ones, optionally filtered."""

    def upsert(self, id: str, vector: np.ndarray, metadata: Mapping[str, Scalar]) -> None:
        """Add or replace the vector and metadata stored under `id`."""
        ...

    def delete(self, id: str) -> None:
        """Remove `id`; removing an absent id does nothing."""
        ...

    def query(self, vector: np.ndarray, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """At most `k` hits, best first, among the entries that pass `filters`."""
        ...


class EmbeddedIndex:
    """Exact cosine search over a float32 matrix in memory, with metadata filters.

    Thread-safe for concurrent readers and one writer. `dirty` says whether it changed since it
    was last loaded or saved, so that callers persist it only when needed.
    """

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._vectors = np.zeros((0, dimension), dtype=np.float32)
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._metadata: list[dict[str, Any]] = []
        self._columns: dict[str, np.ndarray] = {}
        self._size = 0
        self._lock = threading.RLock()
        self.dirty = False

    def __len__(self) -> int:
        return self._size

    def __contains__(self, id: object) -> bool:
        return id in self._rows

    def ids(self) -> list[str]:
        """Every stored id, in storage order."""
        return list(self._ids)

    def metadata(self, id: str) -> dict[str, Any] | None:
        """The metadata stored under `id`, or None when absent."""
        row = self._rows.get(id)
        return dict(self._metadata[row]) if row is not None else None

    def vector(self, id: str) -> np.ndarray | None:
        """The vector stored under `id` (a copy), or None when absent."""
        row = self._rows.get(id)
        return self._vectors[row].copy() if row is not None else None

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, id: str, vector: np.ndarray, metadata: Mapping[str, Scalar]) -> None:
        """Add or replace `id`; raises ValidationError for a vector of the wrong shape."""
        row_vector = self._checked(vector)
        clean = _checked_metadata(metadata)
        with self._lock:
            row = self._rows.get(id)
            if row is None:
                row = self._size
                self._grow(row + 1)
                self._ids.append(id)
                self._metadata.append(clean)
                self._rows[id] = row
                self._size += 1
            else:
                self._metadata[row] = clean
            self._vectors[row] = row_vector
            self._columns.clear()
            self.dirty = True

    def update_metadata(self, id: str, metadata: Mapping[str, Scalar]) -> bool:
        """Merge `metadata` into what `id` has; returns False when `id` is absent."""
        with self._lock:
            row = self._rows.get(id)
            if row is None:
                return False
            self._metadata[row] = {**self._metadata[row], **_checked_metadata(metadata)}
            self._columns.clear()
            self.dirty = True
            return True

    def delete(self, id: str) -> None:
        """Remove `id` by moving the last row into its place; an absent id is ignored."""
        with self._lock:
            row = self._rows.pop(id, None)
            if row is None:
                return
            last = self._size - 1
            if row != last:
                moved = self._ids[last]
                self._vectors[row] = self._vectors[last]
                self._ids[row] = moved
                self._metadata[row] = self._metadata[last]
                self._rows[moved] = row
            self._ids.pop()
            self._metadata.pop()
            self._size -= 1
            self._columns.clear()
            self.dirty = True

    def prune(self, keep: Filters) -> int:
        """Delete every entry that does not pass `keep`; returns how many were deleted."""
        with self._lock:
            mask = self._mask(keep)
            doomed = [self._ids[row] for row in np.flatnonzero(~mask)]
            for id in doomed:
                self.delete(id)
            return len(doomed)

    # -- reads ----------------------------------------------------------------------------

    def query(self, vector: np.ndarray, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """At most `k` hits, best first; ties keep storage order."""
        query = self._checked(vector)
        with self._lock:
            if self._size == 0 or k <= 0:
                return []
            scores = self._vectors[: self._size] @ query
            if filters:
                mask = self._mask(filters)
                candidates = np.flatnonzero(mask)
                if candidates.size == 0:
                    return []
                scores = scores[candidates]
            else:
                candidates = None
            top = _top_k(scores, k)
            rows = top if candidates is None else candidates[top]
            return [
                Hit(self._ids[row], float(scores[i]), dict(self._metadata[row]))
                for i, row in zip(top, rows, strict=True)
            ]

    # -- persistence ----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index as a compressed .npz: float16 vectors, ids and metadata as JSON."""
        with self._lock:
            buffer = io.BytesIO()
            header = {
                "format": FORMAT_VERSION,
                "dimension": self.dimension,
                "ids": self._ids,
                "metadata": self._metadata,
            }
            np.savez_compressed(
                buffer,
                vectors=self._vectors[: self._size].astype(np.float16),
                header=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
            )
            return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> EmbeddedIndex:
        """An index read from `to_bytes` output; raises IndexStoreError when unreadable."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                header = json.loads(archive["header"].tobytes().decode("utf-8"))
                vectors = archive["vectors"].astype(np.float32)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
            raise IndexStoreError(f"the stored index is unreadable: {error}") from error
        if header.get("format") != FORMAT_VERSION or len(header["ids"]) != len(vectors):
            raise IndexStoreError("the stored index has an unknown format")
        index = cls(int(header["dimension"]))
        index._vectors = np.ascontiguousarray(vectors).reshape(-1, index.dimension)
        index._ids = list(header["ids"])
        index._metadata = [dict(item) for item in header["metadata"]]
        index._rows = {id: row for row, id in enumerate(index._ids)}
        index._size = len(index._ids)
        return index

    # -- internals ------------------------------------------------------------------------

    def _checked(self, vector: np.ndarray) -> np.ndarray:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape != (self.dimension,):
            raise ValidationError(
                f"vector has {array.shape[0]} dimensions, the index {self.dimension}",
                field="vector",
            )
        return array

    def _grow(self, needed: int) -> None:
        capacity = self._vectors.shape[0]
        if needed <= capacity:
            return
        bigger = np.zeros((max(needed, capacity * 2, 64), self.dimension), dtype=np.float32)
        bigger[: self._size] = self._vectors[: self._size]
        self._vectors = bigger

    def _column(self, name: str) -> np.ndarray:
        column = self._columns.get(name)
        if column is None:
            values = [meta.get(name) for meta in self._metadata]
            # NOTE: an all-string column becomes a fixed-width unicode array, which numpy
            # compares without calling Python per row (object arrays do).
            if values and all(isinstance(value, str) for value in values):
                column = np.array(values)
            else:
                column = np.array(values, dtype=object)
            self._columns[name] = column
        return column

    def _numeric(self, name: str) -> np.ndarray:
        key = f"#{name}"
        column = self._columns.get(key)
        if column is None:
            column = np.array(
                [v if isinstance(v, int | float) else np.nan for v in self._column(name)],
                dtype=float,
            )
            self._columns[key] = column
        return column

    def _mask(self, filters: Filters) -> np.ndarray:
        mask = np.ones(self._size, dtype=bool)
        for name, wanted in filters.items():
            if isinstance(wanted, Range):
                mask &= _in_range(self._numeric(name), wanted)
                continue
            column = self._column(name)
            if isinstance(wanted, list | tuple | set | frozenset):
                mask &= np.isin(column, list(wanted))
            else:
                mask &= column == wanted
        return mask


def _in_range(numeric: np.ndarray, bounds: Range) -> np.ndarray:
    mask = ~np.isnan(numeric)
    if bounds.gte is not None:
        mask &= numeric >= bounds.gte
    if bounds.lte is not None:
        mask &= numeric <= bounds.lte
    return mask


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    if k >= scores.size:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def _checked_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in metadata.items():
        if value is None:
            continue
        if not isinstance(value, str | int | float | bool):
            raise ValidationError(f"metadata {name} must be a plain scalar", field=name)
        clean[name] = value
    return clean


class S3IndexStore:
    """Keeps an EmbeddedIndex as one object in S3, with optimistic concurrency by ETag.

    Takes a boto3 S3 client from the caller. `load` returns the index and remembers the ETag;
    `save` writes only if nobody else wrote since (If-Match), else raises IndexStoreError so
    that the caller can reload and replay its changes.
    """

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self.etag: str | None = None

    def load(self, dimension: int) -> EmbeddedIndex | None:
        """The stored index, or None when nothing is stored yet; raises IndexStoreError."""
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._key)
        except self._client.exceptions.NoSuchKey:
            self.etag = None
            return None
        except Exception as error:  # botocore ClientError and transport errors
            raise IndexStoreError(f"cannot read the index: {error}") from error
        self.etag = response.get("ETag")
        index = EmbeddedIndex.from_bytes(response["Body"].read())
        if index.dimension != dimension:
            raise IndexStoreError(
                f"the stored index has {index.dimension} dimensions, the embedder {dimension}"
            )
        logger.debug("index loaded", extra={"entries": len(index)})
        return index

    def head_etag(self) -> str | None:
        """The stored object's current ETag, or None when nothing is stored."""
        try:
            return self._client.head_object(Bucket=self._bucket, Key=self._key).get("ETag")
        except Exception:  # botocore raises a bare ClientError (404) for HEAD
            return None

    def save(self, index: EmbeddedIndex) -> None:
        """Store `index` if the object is unchanged since `load`; raises IndexStoreError when
        another writer got there first or S3 refuses the write."""
        condition = {"IfMatch": self.etag} if self.etag else {"IfNoneMatch": "*"}
        try:
            response = self._client.put_object(
                Bucket=self._bucket,
                Key=self._key,
                Body=index.to_bytes(),
                ContentType="application/octet-stream",
                **condition,
            )
        except Exception as error:  # botocore ClientError (412 PreconditionFailed) and others
            raise IndexStoreError(f"cannot write the index: {error}") from error
        self.etag = response.get("ETag")
        index.dirty = False
        logger.debug("index saved", extra={"entries": len(index)})


def bulk(
    index: EmbeddedIndex, items: Iterable[tuple[str, np.ndarray, Mapping[str, Scalar]]]
) -> int:
    """Upsert many entries; returns how many."""
    count = 0
    for id, vector, metadata in items:
        index.upsert(id, vector, metadata)
        count += 1
    return count


class PersistentIndex:
    """An EmbeddedIndex kept in S3 between containers: `refresh` before a batch reloads it
    when another container saved a newer copy, `flush` after a batch saves the changes.

    Changes are journaled; when a save loses the race to another writer, the newer copy is
    loaded, the journal replayed on it, and the save retried.
    """

    def __init__(
        self,
        store: S3IndexStore | None,
        dimension: int,
        *,
        attempts: int = 3,
    ) -> None:
        self._store = store
        self._dimension = dimension
        self._attempts = attempts
        self._index: EmbeddedIndex | None = None
        self._journal: list[tuple[str, str, Any, Any]] = []

    @property
    def index(self) -> EmbeddedIndex:
        """The index in memory, read from S3 on first use; raises IndexStoreError."""
        if self._index is None:
            loaded = self._store.load(self._dimension) if self._store else None
            self._index = loaded or EmbeddedIndex(self._dimension)
        return self._index

    def __len__(self) -> int:
        return len(self.index)

    def refresh(self) -> None:
        """Reload from S3 when the stored copy changed since this container read it."""
        if self._store is None or self._index is None:
            return
        current = self._store.head_etag()
        if current != self._store.etag:
            self._index = self._store.load(self._dimension) or EmbeddedIndex(self._dimension)
            self._journal.clear()

    def upsert(self, id: str, vector: np.ndarray, metadata: Mapping[str, Scalar]) -> None:
        """Add or replace `id` (journaled for `flush`); raises ValidationError."""
        self.index.upsert(id, vector, metadata)
        self._journal.append(("upsert", id, np.asarray(vector, dtype=np.float32), dict(metadata)))

    def delete(self, id: str) -> None:
        """Remove `id` (journaled for `flush`); an absent id is ignored."""
        self.index.delete(id)
        self._journal.append(("delete", id, None, None))

    def update_metadata(self, id: str, metadata: Mapping[str, Scalar]) -> bool:
        """Merge `metadata` into `id`'s; returns False when `id` is absent."""
        found = self.index.update_metadata(id, metadata)
        if found:
            self._journal.append(("meta", id, None, dict(metadata)))
        return found

    def query(self, vector: np.ndarray, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        return self.index.query(vector, k, filters)

    def flush(self, keep: Filters | None = None) -> bool:
        """Prune what fails `keep` (too old, closed), then save the changes, if any; returns
        True when something was written.

        Raises IndexStoreError when every attempt lost the race or S3 refused the write.
        """
        if self._index is None or not self._index.dirty or self._store is None:
            return False
        for attempt in range(self._attempts):
            if keep:
                self._index.prune(keep)
            try:
                self._store.save(self._index)
                self._journal.clear()
                return True
            except IndexStoreError:
                if attempt == self._attempts - 1:
                    raise
                logger.debug("index changed in S3; replaying", extra={"attempt": attempt})
                self._index = self._store.load(self._dimension) or EmbeddedIndex(self._dimension)
                self._replay(self._index)
        return False

    def _replay(self, index: EmbeddedIndex) -> None:
        for operation, id, vector, metadata in self._journal:
            if operation == "upsert":
                index.upsert(id, vector, metadata)
            elif operation == "delete":
                index.delete(id)
            else:
                index.update_metadata(id, metadata)
        index.dirty = True
