"""The world of the nightly benchmark, each part in a process of its own.

- the EPJ: a CosDoc mock over mutual TLS holding ``citizens`` patients (all
  receiving both open services) and, through its streamed EKSPORT_AVTALER,
  ``appointments`` appointments spread evenly over the days the nightly job
  reads, generated as they are sent (a day's AvtaleNr are its own), so the
  mock holds no appointment in memory;
- the portal: a :class:`~digidialog.testing.portal.PortalSimulator` on the
  broker (or the embedded transport: the store's SQLite file), every patient
  declared digitally active, answering the SIDAB questions and every message
  sent with its AppRec;
- the nightly job itself (:mod:`benchmarks.nightly_run`), measured alone in its
  process.

Each server prints one JSON line when it is ready and runs until its stdin
closes; the portal then prints what it received.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr
from datetime import UTC, date, datetime
from pathlib import Path

from digidialog import log
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function
from digidialog.store import Store
from digidialog.sync.window import window_around
from digidialog.testing import mocks, seed
from digidialog.testing.portal import PortalSimulator
from digidialog.transport import Transport
from digidialog.transport.amqp import AmqpTransport
from digidialog.transport.embedded import EmbeddedTransport

NAMES = ("Kari Nordmann", "Ola Hansen", "Áilu Ŋuolla", "Ingrid Østby", "Máret Sara")


def window_days(now: datetime | None = None) -> list[date]:
    """The Oslo days the nightly job reads (yesterday and six weeks ahead)."""
    start, end = window_around(now or datetime.now(UTC))
    first = start.astimezone(OSLO).date()
    return [date.fromordinal(first.toordinal() + n)
            for n in range((end.astimezone(OSLO).date() - first).days)]


def _silence() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    log.configure("WARNING")


def _wait_for_stdin_to_close() -> None:
    for _ in sys.stdin:
        pass


def serve_mock(citizens: int, appointments: int, ids_file: str) -> None:
    """Run the CosDoc mock until stdin closes; print its settings; write the national ids."""
    _silence()
    from digidialog_cosdoc.mock import export, server  # noqa: PLC0415 - the mock extra
    from digidialog_cosdoc.mock.state import Pasient  # noqa: PLC0415

    harness = mocks.start("cosdoc", seed_citizens=0)
    store = harness.mock.store  # type: ignore[attr-defined]
    rng = random.Random(2026)  # noqa: S311 - test data
    made: list[str] = []
    seen: set[str] = set()
    while len(made) < citizens:
        national_id = seed.national_id(rng, d_number=len(made) % 10 == 9)
        if national_id in seen:
            continue
        seen.add(national_id)
        # Straight into the mock's table: its add_patient looks for the id among all.
        number = 100_001 + len(made)
        store.pasienter[number] = Pasient(number, national_id, NAMES[len(made) % len(NAMES)],
                                          [101, 102], False)
        made.append(national_id)
    Path(ids_file).write_text("\n".join(made))
    days = window_days()
    per_day = max(1, appointments // len(days))
    original = export.synthetic_records

    def of_the_day(count: int, day: date, patients: list[int]) -> Iterator[object]:
        offset = 100_000_000 + (day.toordinal() % 10_000) * 1_000_000
        for record in original(count, day, patients):
            record.nr += offset
            yield record

    # The mock streams ``synthetic_records`` of any day; each day gets AvtaleNr of its own.
    setattr(server, "synthetic_records", of_the_day)  # noqa: B010
    harness.mock.synthetic_export = per_day  # type: ignore[attr-defined]
    settings = harness.settings()
    print(json.dumps({"base_url": settings.base_url, "client_cert": str(settings.client_cert),
                      "client_key": str(settings.client_key), "ca": str(settings.ca),
                      "service": harness.open_service(), "per_day": per_day,
                      "days": len(days)}), flush=True)
    try:
        _wait_for_stdin_to_close()
    finally:
        harness.stop()


def serve_portal(kind: str, url: str, portal_her_id: str, ids_file: str) -> None:
    """Play the portal until stdin closes; print what it received.

    ``kind`` is ``amqp`` (``url`` a broker's) or ``embedded`` (``url`` the store's).
    """
    _silence()
    store = None if kind == "amqp" else Store.open(url, migrate=False)
    transport: Transport = AmqpTransport(url) if store is None else EmbeddedTransport(store)
    portal = PortalSimulator(transport, portal_her_id=portal_her_id)
    portal.declare_digitally_active(*Path(ids_file).read_text().split())
    with open(os.devnull, "w") as void, redirect_stderr(void):
        portal.start()
        print(json.dumps({"ready": True}), flush=True)
        try:
            _wait_for_stdin_to_close()
        finally:
            portal.stop()
            transport.close()
            if store is not None:
                store.close()
    received = portal.received()
    print(json.dumps({
        "questions": sum(r.function is Function.DIGITAL_STATUS_QUERY for r in received),
        "overviews": sum(r.function is Function.SERVICE_OVERVIEW for r in received),
        "duplicates": sum(r.duplicate for r in received),
        "violations": len(portal.violations()),
    }), flush=True)
