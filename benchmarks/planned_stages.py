"""Where one HentPlanlagteTimer answer's time goes: its parts, one request at a time.

At 50 concurrent requests the latency is mostly queueing: each request waits
for those ahead of it, so the p50 is about the queue's depth times what one
answer costs the responder. This module times what one answer costs, part by
part, in one thread, against the same world (:mod:`benchmarks.planned_latency`):

- *decode request*: the HBT read and validated;
- *answer from the store*: the access rules and the store's reads (roster,
  proxies, the citizen's visits), the visits presented, the 01 built;
- *of which: visits read*: the citizen's 60 stored visits read and parsed;
- *encode answer*: the 01 written and validated against the schemas.

Beside them, in the main table's run, the round trip of one request alone
(concurrency 1) to the bare echo and to the engine says what the broker adds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event

from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import decode, encode
from digidialog.sync.planned import PlannedAppointments

DECODE = "decode request"
ANSWER = "answer from the store"
VISITS = "of which: visits read"
ENCODE = "encode answer"
STAGES = (DECODE, ANSWER, VISITS, ENCODE)
COUNT = 200


@dataclass(frozen=True)
class StageCost:
    """One part of an answer: wall and CPU seconds and SQL statements, per request."""

    seconds: float
    cpu_seconds: float
    statements: float


class _Statements:
    """Counts the SQL statements sent through an engine while active."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0

    def _statement(self, *_: object) -> None:
        self.count += 1

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)


def _cost(engine: Any, count: int, work: Callable[[], object]) -> StageCost:
    work()  # warm: caches, prepared statements
    with _Statements(engine) as statements:
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(count):
            work()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return StageCost(seconds / count, cpu / count, statements.count / count)


def stage_costs(world: Any, request: bytes, count: int = COUNT) -> dict[str, StageCost]:
    """What each part of an answer to ``request`` costs in ``world``, one at a time."""
    planned = PlannedAppointments(world.store, world.municipality, lambda: datetime.now(OSLO))
    message = decode(request)
    answer = planned.answer(message).message
    engine = world.store.engine
    municipality, citizen = world.municipality.her_id, world.citizen
    return {
        DECODE: _cost(engine, count, lambda: decode(request)),
        ANSWER: _cost(engine, count, lambda: planned.answer(message)),
        VISITS: _cost(engine, count, lambda: world.store.appointments.of_citizen(
            municipality, citizen, visible_after=datetime.now(OSLO))),
        ENCODE: _cost(engine, count, lambda: encode(answer)),
    }
