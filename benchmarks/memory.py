"""Memory per decoded appointment, measured with :mod:`tracemalloc`.

Two numbers for the SvarPlanlagteTimer case:

- *peak*: the most Python memory in use at any moment while decoding, above
  what was in use before (the parsed tree's Python proxies, the events, the
  pydantic models and the garbage they leave behind);
- *retained*: what is still allocated once decoding returned and garbage was
  collected, with the :class:`PortalMessage` kept alive, taken as the
  difference of two tracemalloc snapshots. That is what holding a decoded
  reply costs.

tracemalloc sees only allocations made through Python's allocator; libxml2's
own tree memory is not counted, which is right for *retained* (the tree is
freed when decoding returns) and makes *peak* a lower bound.
"""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import dataclass

from benchmarks.fixtures import Case
from digidialog.helsenorge.codec import decode


@dataclass(frozen=True)
class MemoryUse:
    """Bytes allocated by decoding one message, in total and per appointment."""

    case: str
    appointments: int
    peak_bytes: int
    retained_bytes: int

    @property
    def peak_per_appointment(self) -> float:
        """Peak bytes divided by the number of appointments."""
        return self.peak_bytes / max(self.appointments, 1)

    @property
    def retained_per_appointment(self) -> float:
        """Retained bytes divided by the number of appointments."""
        return self.retained_bytes / max(self.appointments, 1)


def _traced_total(snapshot: tracemalloc.Snapshot) -> int:
    return sum(stat.size for stat in snapshot.statistics("filename"))


def measure_decode_memory(case: Case) -> MemoryUse:
    """Peak and retained memory of decoding ``case`` once, its result kept alive.

    One decode runs first, untraced, so that caches filled on first use (the
    compiled schema, pydantic's validators, interned strings) are not billed
    to the message.
    """
    decode(case.data)
    gc.collect()
    already_tracing = tracemalloc.is_tracing()
    if not already_tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        tracemalloc.reset_peak()
        start_current, _ = tracemalloc.get_traced_memory()
        message = decode(case.data)
        _, peak = tracemalloc.get_traced_memory()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        if not already_tracing:
            tracemalloc.stop()
    # Snapshots of the tracer's own bookkeeping would only add noise.
    ignore = [tracemalloc.Filter(inclusive=False, filename_pattern=tracemalloc.__file__)]
    retained = _traced_total(after.filter_traces(ignore)) - _traced_total(
        before.filter_traces(ignore)
    )
    count = len(message.appointments)
    del message
    return MemoryUse(
        case=case.name,
        appointments=count,
        peak_bytes=peak - start_current,
        retained_bytes=retained,
    )
