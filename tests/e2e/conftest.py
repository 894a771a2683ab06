"""Fixtures for the end-to-end tests: a running local desk, reached through its sockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.local_desk import Desk, start_desk, stop_desk


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A fresh, empty desk whose SLA sweep runs every second."""
    running = start_desk(
        tmp_path_factory.mktemp("desk"), "--no-seed", "--fresh", "--sla-interval", "1"
    )
    yield running
    stop_desk(running)
