"""How a harness reads its own mock back through the real adapter (its ``visits`` lever).

Each harness answers "what would the adapter report of this citizen's visits"
by asking its mock through an adapter of its own, over the span of every
visit the mock holds for the citizen: a test's own adapters may have wrong
credentials or odd call policies, so they are not borrowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from digidialog.adapters.contract import EpjAdapter
from digidialog.domain import Appointment
from digidialog.testing.levers import span_of


class ReadBack:
    """An adapter made on first use by ``make`` (the harness's ``adapter``), kept until
    :meth:`forget` (the harness closes its adapters when it stops)."""

    def __init__(self, make: Callable[[], EpjAdapter]) -> None:
        self._make = make
        self._adapter: EpjAdapter | None = None

    def visits(self, citizen_id: str,
               held: Iterable[tuple[datetime, datetime]]) -> list[Appointment]:
        """What the adapter reports of ``citizen_id``'s visits over the span of ``held``, the
        (start, end) of every visit the mock holds for the citizen."""
        span = span_of(held)
        if span is None:
            return []
        if self._adapter is None:
            self._adapter = self._make()
        return self._adapter.appointments(citizen_id, *span)

    def forget(self) -> None:
        """Make a new adapter next time (the one made was closed with the harness's)."""
        self._adapter = None
