"""Whether each municipality's EPJ answers, as the engine's own calls found it, for ``/readyz``.

``/readyz`` must not call an EPJ on every probe (a slow EPJ would make the
probe slow, and a busy one busier). Instead every adapter the daemon builds
is wrapped in a :class:`WatchedAdapter` that notes how each call the engine
makes ended; :class:`EpjReachability` keeps the last outcome per municipality,
and the readiness check named ``epj:<her_id>`` reads it:

- the EPJ could not be reached, timed out, sent a reply that could not be read
  at all, or refused our credentials: failing, with the reason and since when;
- it answered (a refusal on the merits, such as an unknown visit, or a record
  the adapter cannot use, is an answer): passing;
- nothing asked yet: passing (an EPJ is not assumed down before it is tried).

An adapter's optional abilities stay visible through the wrapper: one with a
daily export (CosDoc) is wrapped in a :class:`WatchedExport`, so the nightly
job still streams the export instead of reading citizen by citizen
(:func:`watch` chooses).

A pushing EPJ (Profil) is read from the adapter's local store, which needs
no call to the EPJ: its reading is no evidence that the EPJ answers, so only
the other calls (and the reading's failures) count for it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypeVar

from digidialog.adapters.contract import (
    Capabilities,
    ChangeBatch,
    ChangeSource,
    CitizenMessage,
    CitizenRecord,
    DigitalStatusUpdate,
    EpjAdapter,
    EpjReceipt,
    VendorService,
)
from digidialog.domain import Appointment, CancellationRequest
from digidialog.errors import (
    AuthenticationFailed,
    BrokenReply,
    MalformedReply,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)
from digidialog.sync.nightly.appointments import DailyExport

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

T = TypeVar("T")

UNREACHABLE = (VendorUnavailable, VendorTimeout, BrokenReply, AuthenticationFailed)
"""What an EPJ call ends with when the EPJ is not there for us. A refusal, or a record
the adapter cannot use in an answer that could be read, is an answer."""
_REASON_CHARS = 300
_DIGIT_RUNS = re.compile(r"\d{11,}")


@dataclass(frozen=True)
class Outcome:
    """The last call's outcome: ``reason`` is None when the EPJ answered."""

    reason: str | None
    at: datetime
    since: float
    """Monotonic time the current state (answering or not) began."""


class EpjReachability:
    """The last outcome of the EPJ calls of each municipality; safe across threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, Outcome] = {}
        self._clock = clock

    def answered(self, municipality: str) -> None:
        """A call to the municipality's EPJ got an answer."""
        self._note(municipality, None)

    def failed(self, municipality: str, error: Exception) -> None:
        """A call to the municipality's EPJ did not get through."""
        text = _DIGIT_RUNS.sub(lambda m: "*" * len(m.group()), str(error))[:_REASON_CHARS]
        self._note(municipality, f"{type(error).__name__}: {text}")

    def _note(self, municipality: str, reason: str | None) -> None:
        now = self._clock()
        with self._lock:
            before = self._last.get(municipality)
            same_state = before is not None and (before.reason is None) == (reason is None)
            since = before.since if same_state and before is not None else now
            self._last[municipality] = Outcome(reason, datetime.now(UTC), since)

    def outcome(self, municipality: str) -> Outcome | None:
        """The last outcome, or None when no call was made yet."""
        with self._lock:
            return self._last.get(municipality)

    def check(self, municipality: str) -> Callable[[], None]:
        """A readiness check: raises, saying why and for how long, while the EPJ is away."""
        def check() -> None:
            outcome = self.outcome(municipality)
            if outcome is None or outcome.reason is None:
                return
            lasted = self._clock() - outcome.since
            raise ConnectionError(f"the EPJ has not answered for {lasted:.0f} s "
                                  f"(last try {outcome.at:%H:%M:%S} UTC): {outcome.reason}")
        return check


class WatchedAdapter:
    """An :class:`EpjAdapter` whose calls' outcomes are noted in an :class:`EpjReachability`.

    Everything is the wrapped adapter's; only the outcome is observed. A lazy
    iterator (``citizens``) counts as answered when the EPJ gave its first page.
    """

    def __init__(self, inner: EpjAdapter, municipality: str,
                 reachability: EpjReachability) -> None:
        self.inner = inner
        self.municipality = municipality
        self.reachability = reachability
        self._pushed = inner.capabilities.change_source is ChangeSource.PUSH

    def _watch(self, call: Callable[[], T], *, evidence: bool = True) -> T:
        try:
            result = call()
        except UNREACHABLE as error:
            self.reachability.failed(self.municipality, error)
            raise
        except (VendorRejected, MalformedReply):
            self.reachability.answered(self.municipality)
            raise
        if evidence:
            self.reachability.answered(self.municipality)
        return result

    @property
    def capabilities(self) -> Capabilities:
        """The wrapped adapter's capabilities."""
        return self.inner.capabilities

    def services(self) -> list[VendorService]:
        """As the wrapped adapter."""
        return self._watch(self.inner.services)

    def _watch_stream(self, items: Iterator[T]) -> Iterator[T]:
        """A lazy reading: the EPJ answered when it gave the first item (or said none)."""
        first = self._watch(lambda: next(items, None))
        if first is None:
            return
        yield first
        yield from items

    def citizens(self, service_code: str | None = None) -> Iterator[CitizenRecord]:
        """As the wrapped adapter."""
        return self._watch_stream(self.inner.citizens(service_code))

    def set_digital_status(self, updates: Sequence[DigitalStatusUpdate]) -> int:
        """As the wrapped adapter."""
        return self._watch(lambda: self.inner.set_digital_status(updates))

    def appointments(self, citizen_id: str, start: datetime, end: datetime
                     ) -> list[Appointment]:
        """As the wrapped adapter."""
        return self._watch(lambda: self.inner.appointments(citizen_id, start, end))

    def changes(self, checkpoint: str | None, limit: int = 500) -> ChangeBatch:
        """As the wrapped adapter; a pushing EPJ's local reading proves nothing of it."""
        return self._watch(lambda: self.inner.changes(checkpoint, limit),
                           evidence=not self._pushed)

    def acknowledge(self, batch: ChangeBatch) -> None:
        """As the wrapped adapter."""
        self._watch(lambda: self.inner.acknowledge(batch), evidence=not self._pushed)

    def deliver_message(self, message: CitizenMessage) -> EpjReceipt:
        """As the wrapped adapter."""
        return self._watch(lambda: self.inner.deliver_message(message))

    def register_cancellation(self, request: CancellationRequest) -> EpjReceipt:
        """As the wrapped adapter."""
        return self._watch(lambda: self.inner.register_cancellation(request))

    def push_endpoint(self) -> WSGIApplication | None:
        """The wrapped adapter's push endpoint (not a call to the EPJ)."""
        return self.inner.push_endpoint()

    def close(self) -> None:
        """Close the wrapped adapter."""
        self.inner.close()


class WatchedExport(WatchedAdapter):
    """A :class:`WatchedAdapter` around an adapter with a daily export (CosDoc's)."""

    def __init__(self, inner: EpjAdapter, municipality: str,
                 reachability: EpjReachability) -> None:
        super().__init__(inner, municipality, reachability)
        if not isinstance(inner, DailyExport):
            raise TypeError(f"{type(inner).__name__} has no daily export")
        self._export: DailyExport = inner

    def export_appointments(self, day: date) -> Iterator[tuple[str, Appointment]]:
        """As the wrapped adapter."""
        return self._watch_stream(self._export.export_appointments(day))


def watch(inner: EpjAdapter, municipality: str,
          reachability: EpjReachability) -> WatchedAdapter:
    """``inner`` wrapped so that its calls' outcomes are noted, its optional abilities kept."""
    if isinstance(inner, DailyExport):
        return WatchedExport(inner, municipality, reachability)
    return WatchedAdapter(inner, municipality, reachability)
