"""Visits: citizens cancel them and staff decide, staff register them done.

Each citizen gets a run of assigned visits from tomorrow on; each visit is
used once, either cancelled (ART, registered in the EPJ, decided by staff,
answered 08/09) or registered done (pushed to the portal as MOA COMPLETED).
Visit notices go only to the digitally active, so :meth:`VisitsDone.begin`
has every citizen made active (SDAB) before the traffic starts.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from digidialog.domain import CancellationOutcome, DigitalStatus
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function
from digidialog.testing.crash.messages import receipts
from digidialog.testing.crash.traffic import Count, Pool, count
from digidialog.testing.crash.world import CrashWorld

VISITS_PER_CITIZEN = 24
"""Visits seeded per citizen: half to cancel, half to complete."""
ACTIVE_WITHIN = 120.0
"""Seconds the daemons have to record every citizen digitally active."""


def seed_visits(world: CrashWorld, cancel: Pool, complete: Pool) -> None:
    """Seed each citizen's visits and share them out between the two pools (once each)."""
    tomorrow = datetime.now(OSLO).date() + timedelta(days=1)
    first = datetime.combine(tomorrow, datetime.min.time(), tzinfo=OSLO) + timedelta(hours=7)
    for site in world.sites:
        harness = site.harness
        her_ids = {harness.open_service(): site.service,
                   harness.second_open_service(): site.second_service}
        for citizen in site.citizens:
            seeded = {v.uid for v in harness.seed_visits(citizen, VISITS_PER_CITIZEN, first)}
            for index, visit in enumerate(sorted(
                    (v for v in harness.visits(citizen) if v.uid in seeded),
                    key=lambda v: (v.start, v.uid))):
                item = (site.municipality, citizen, visit.uid, her_ids[visit.service_id or ""],
                        visit.start.isoformat(), visit.end.isoformat())
                (cancel if index % 2 == 0 else complete).add(item)


@dataclass(frozen=True)
class Requested:
    """A cancellation the portal sent (its MsgId is the request's id) and staff's decision."""

    municipality: str
    citizen: str
    msg_id: str
    uid: str


@dataclass
class Cancellations:
    """Citizens cancel visits; staff decide each; one 08 or 09 answers each, in its thread."""

    pool: Pool
    name: str = "cancellations"
    requested: list[Requested] = field(default_factory=list)
    decided: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self, world: CrashWorld) -> None:
        """The visits are seeded by :class:`VisitsDone` (one pool each)."""

    def begin(self, world: CrashWorld) -> None:
        """Nothing to wait for."""

    def tick(self, world: CrashWorld, rng: random.Random) -> None:
        """A citizen cancels one of their visits still to come."""
        taken = self.pool.take(rng)
        if taken is None:
            return
        municipality, citizen, uid, service, start, end = taken
        sent = world.portal.send_cancellation(
            municipality, service, citizen, uid=uid, start=datetime.fromisoformat(start),
            end=datetime.fromisoformat(end), reason="Jeg er bortreist.")
        assert sent.msg_id is not None  # noqa: S101 - the simulator built the message
        with self._lock:
            self.requested.append(Requested(municipality, citizen, sent.msg_id, uid))

    def settle(self, world: CrashWorld) -> None:
        """Staff decide each cancellation the EPJ holds (accept two in three)."""
        with self._lock:
            waiting = [r for r in self.requested if r.msg_id not in self.decided]
        for request in waiting:
            harness = world.site(request.municipality).harness
            if harness.cancellations(request.msg_id) < 1:
                continue
            accept = int(request.msg_id[-2:], 16) % 3 != 0
            harness.decide_cancellation(request.msg_id, accept,
                                        None if accept else "Besøket må gjennomføres.")
            with self._lock:
                self.decided[request.msg_id] = accept

    def _answers(self, world: CrashWorld, request: Requested) -> tuple[set[str], int, set[bool]]:
        arrived = world.portal.received(function=Function.CANCELLATION_REPLY,
                                        thread=request.msg_id)
        decisions = {r.message.decision is CancellationOutcome.ACCEPTED for r in arrived}
        return {r.msg_id for r in arrived}, len(arrived), decisions

    def done(self, world: CrashWorld) -> bool:
        """Every request decided and answered."""
        with self._lock:
            requested = list(self.requested)
        return all(self._answers(world, r)[0] for r in requested)

    def tally(self, world: CrashWorld) -> list[Count]:
        """Registered once in the EPJ, answered once with staff's decision, one AppRec."""
        with self._lock:
            requested, decided = list(self.requested), dict(self.decided)
        held = {r.msg_id: world.site(r.municipality).harness.cancellations(r.msg_id)
                for r in requested}
        answers = {r.msg_id: self._answers(world, r) for r in requested}
        counts = [
            count("cancellations registered in the EPJ",
                  ((m, held[m], held[m]) for m in held)),
            count("cancellation answers (08/09)",
                  ((m, len(ids), wire) for m, (ids, wire, _) in answers.items())),
            count("AppRecs for cancellations",
                  ((r.msg_id, *receipts(world, r.msg_id)[:2]) for r in requested)),
        ]
        wrong = [m for m, (_, _, said) in answers.items()
                 if said and m in decided and said != {decided[m]}]
        if wrong:
            counts.append(Count("answers that are not staff's decision", len(wrong), 0, 0,
                                len(wrong), 0, tuple(wrong[:5])))
        return counts


@dataclass
class VisitsDone:
    """Staff register visits done; each is pushed to the portal once (MOA, COMPLETED)."""

    pool: Pool
    cancel: Pool
    name: str = "visits done"
    completed: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self, world: CrashWorld) -> None:
        """Seed every citizen's visits, for this traffic and for the cancellations."""
        seed_visits(world, self.cancel, self.pool)

    def begin(self, world: CrashWorld) -> None:
        """Make every citizen digitally active (SDAB), and wait until the store says so."""
        for site in world.sites:
            for citizen in site.citizens:
                world.portal.send_digital_status(site.municipality, citizen,
                                                 DigitalStatus.ACTIVE)
        deadline = time.monotonic() + ACTIVE_WITHIN
        while time.monotonic() < deadline:
            if all((s := world.store.citizens.status(site.municipality, c)) is not None
                   and s.active for site in world.sites for c in site.citizens):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the citizens were not digitally active within {ACTIVE_WITHIN:g} s")

    def tick(self, world: CrashWorld, rng: random.Random) -> None:
        """Staff register one visit done."""
        taken = self.pool.take(rng)
        if taken is None:
            return
        municipality, citizen, uid = taken[:3]
        world.site(municipality).harness.complete_visit(citizen, uid)
        with self._lock:
            self.completed.append((municipality, uid))

    def settle(self, world: CrashWorld) -> None:
        """Nothing follows by itself."""

    def _pushed(self, world: CrashWorld) -> dict[tuple[str, str], list[str]]:
        """Per (municipality, visit uid) the MsgIds of the MOA notices that arrived."""
        pushed: dict[tuple[str, str], list[str]] = {}
        for received in world.portal.received(function=Function.APPOINTMENT_NOTICE,
                                              code="MOA"):
            municipality = received.message.sender.her_ids[0] or ""
            for appointment in received.message.appointments:
                pushed.setdefault((municipality, appointment.uid), []).append(received.msg_id)
        return pushed

    def done(self, world: CrashWorld) -> bool:
        """Every visit done pushed."""
        pushed = self._pushed(world)
        with self._lock:
            return all(visit in pushed for visit in self.completed)

    def tally(self, world: CrashWorld) -> list[Count]:
        """Each visit done pushed once."""
        pushed = self._pushed(world)
        with self._lock:
            completed = list(self.completed)
        return [count("visits done pushed (MOA)", (
            (uid, len(set(pushed.get((m, uid), ()))), len(pushed.get((m, uid), ())))
            for m, uid in completed))]
