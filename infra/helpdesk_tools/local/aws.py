"""moto in server mode on loopback, with each API call applied atomically.

Real DynamoDB applies an UpdateItem, a conditional write or a transaction atomically; moto's
threaded server does not serialise concurrent requests, so two `ADD` updates can read the same
value. Serialising whole requests makes the local endpoint linearisable, as AWS is per item.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

logger = logging.getLogger(__name__)


class _Serialised:
    """WSGI middleware: one request at a time reaches the moto backends."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            # Drain the response inside the lock, so no backend state is read after it.
            return list(self._app(environ, start_response))


def _cheap_transaction_backups() -> None:
    """Make moto's TransactWriteItems cost what the transaction touches, not the table's size.

    moto backs up every table a transaction names with a deep copy, stream records included,
    so each transaction costs as much as the table's whole history and a desk of a few hundred
    tickets slows to a crawl. Here only the items the transaction names and the stream's length
    are saved, and restored when the transaction fails. Requests are serialised (see
    `_Serialised`), so nothing else changes those items meanwhile.
    """
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    backend = models.DynamoDBBackend
    if getattr(backend.transact_write_items, "_helpdesk_cheap", False):
        return
    original = backend.transact_write_items

    class _NoTableCopies:
        """Stands in for the `copy` module inside moto.dynamodb.models: tables are not copied."""

        def deepcopy(self, value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, Any, Any, Any]] = []
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            for op in entry.values():
                table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
                if table is None:
                    continue
                key = op.get("Key") or op.get("Item") or {}
                if table.hash_key_attr not in key or (
                    table.range_key_attr and table.range_key_attr not in key
                ):
                    continue
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = (
                    DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                )
                current = table.get_item(hash_value, range_value)
                saved.append((table, hash_value, range_value, copy.deepcopy(current)))
                if table.stream_shard is not None:
                    streams.setdefault(id(table), (table, len(table.stream_shard.items)))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                _restore(table, hash_value, range_value, item)
            for table, length in streams.values():
                del table.stream_shard.items[length:]
            raise

    transact_write_items._helpdesk_cheap = True  # type: ignore[attr-defined]
    models.copy = _NoTableCopies()  # type: ignore[assignment]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _cheap_queries() -> None:
    """Make moto's Query read only what it can match, without sorting the whole table.

    moto answers every Query from `Table.all_items()`, which sorts every item of the table, and
    a query on the table's own key then filters that list by partition. Here a table query
    reads only its partition, and an index query the items unsorted (it sorts its matches
    itself), so a desk's query cost no longer grows with the sort of its whole history.
    """
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_helpdesk_cheap", False):
        return
    original = Table.query

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        hash_key = args[0] if args else kwargs.get("hash_key")
        if index_name is None and hash_key is not None:
            partition = self.items.get(hash_key)
            candidates = (
                []
                if partition is None
                else list(partition.values())
                if self.range_key_attr
                else [partition]
            )
        else:
            candidates = [
                item
                for stored in self.items.values()
                for item in (stored.values() if self.range_key_attr else [stored])
            ]
        self.all_items = lambda: candidates
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    query._helpdesk_cheap = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is not None:
        if item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item


class LocalAws:
    """A moto server on 127.0.0.1; `endpoint` is what AWS_ENDPOINT_URL should be set to."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        _cheap_transaction_backups()
        _cheap_queries()
        app = _Serialised(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalAws:
        self._thread.start()
        logger.debug("local aws started", extra={"endpoint": self.endpoint})
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
