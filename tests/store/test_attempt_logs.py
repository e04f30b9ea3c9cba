"""A failed job's log line names the kind of error, for operators; its text stays masked.

The text of an error may quote the EPJ (a SOAP fault about a patient), so the
log masks it under ``reason``; the store keeps it for ``digidialog
deadletter``. The kind (``VendorUnavailable``, ``VendorRejected``) is ours and
tells the operator where to look.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import structlog

from digidialog import log
from digidialog.errors import VendorRejected, VendorUnavailable
from digidialog.store import Store, WorkItem
from digidialog.sync.attempt import attempt
from digidialog.sync.retry import RetryPolicy
from tests.store.test_store_workqueue import add

QUOTED = "pasient Kari Nordmann finnes ikke"


@pytest.fixture
def lines(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Logging as the daemon configures it."""
    log.configure("DEBUG")
    yield capsys
    structlog.reset_defaults()


def failing(error: Exception) -> Callable[[WorkItem], None]:
    """Work that fails with ``error``."""
    def work(_item: WorkItem) -> None:
        raise error
    return work


@pytest.mark.parametrize(("error", "event"), [
    (VendorUnavailable(QUOTED), "job retried later"),
    (VendorRejected(QUOTED), "job parked"),
])
def test_the_kind_of_error_is_logged_and_its_text_is_not(
        store: Store, lines: pytest.CaptureFixture[str], error: Exception, event: str) -> None:
    """Retried or parked: the line says which error, never what it quoted."""
    add(store, store.outbox, "job")
    [item] = store.outbox.claim("a", lease_seconds=10)
    attempt(store.outbox, item, "a", RetryPolicy(), failing(error))
    events = [json.loads(line) for line in lines.readouterr().err.splitlines() if line]
    [logged] = [e for e in events if e["event"] == event]
    assert logged["error"] == type(error).__name__
    assert "Kari" not in json.dumps(events)
    if event == "job parked":
        parked = store.outbox.get(item.id)
        assert parked is not None and QUOTED in (parked.last_error or "")
