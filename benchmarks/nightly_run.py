"""An Oslo-sized nightly run: 20,000 citizens and 600,000 appointments, then twice that.

Against the CosDoc mock (its streamed export is the nightly path with the
most data), on PostgreSQL with RabbitMQ (what a city runs; SQLite with the
embedded transport when the servers are missing), the portal simulator
answering in another process (:mod:`benchmarks.nightly_world`). The nightly
job runs as ``digidialog run`` runs it: the engine's loops in threads beside
it, sending what it queues while it goes on. Measured in a fresh process of
its own: the run's wall time, the time until everything it queued was handed
to the broker ("sent") and until every AppRec came back and was handled
("acknowledged", which also waits for the simulated portal), and peak
resident memory (``ru_maxrss``, libxml2's included).

Targets: acknowledged within 5 minutes of the start, peak under 300 MB, and
memory flat when the data doubles (peak at most 1.25 times).
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = ((20_000, 600_000), (40_000, 1_200_000))
QUICK_SIZES = ((1_000, 30_000), (2_000, 60_000))
SECONDS_LIMIT = 300.0
MEMORY_LIMIT_MB = 300.0
FLAT_GROWTH = 1.25
HEADERS = ("Case", "Backend", "Run s", "Sent s", "Acked s", "Next night s", "Peak MB",
           "Growth MB", "Stored", "Overviews", "Result")


def _her_id() -> str:
    return f"98{uuid.uuid4().int % 10**7:07d}"


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _until(done: Any) -> float:
    """Wait (polling) until ``done()``; the moment it was, on the perf counter."""
    while not done():
        time.sleep(0.2)
    return time.perf_counter()


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """In this (fresh) process: the nightly run beside the engine's loops; what was measured."""
    import os  # noqa: PLC0415
    from contextlib import redirect_stderr  # noqa: PLC0415

    from sqlalchemy import func, select  # noqa: PLC0415

    from digidialog import log  # noqa: PLC0415
    from digidialog.adapters import registry  # noqa: PLC0415
    from digidialog.adapters.registry import AdapterSettings  # noqa: PLC0415
    from digidialog.store import PENDING, Store  # noqa: PLC0415
    from digidialog.store.schema import appointments, inbox, outbox  # noqa: PLC0415
    from digidialog.sync.context import Municipality, ServiceRoute  # noqa: PLC0415
    from digidialog.sync.engine import Engine  # noqa: PLC0415
    from digidialog.sync.inbound import utc_now  # noqa: PLC0415
    from digidialog.sync.nightly import NightlyContext, NightlySettings, run_now  # noqa: PLC0415
    from digidialog.transport import Transport  # noqa: PLC0415
    from digidialog.transport.amqp import AmqpTransport  # noqa: PLC0415
    from digidialog.transport.embedded import EmbeddedTransport  # noqa: PLC0415

    log.configure("WARNING")
    mock = spec["mock"]
    adapter = registry.load("cosdoc").create(AdapterSettings(
        base_url=mock["base_url"], client_cert=Path(mock["client_cert"]),
        client_key=Path(mock["client_key"]), ca=Path(mock["ca"]), timeout=120.0))
    store = Store.open(spec["store_url"], migrate=False)

    def transport() -> Transport:
        return AmqpTransport(spec["amqp"]) if spec["amqp"] else EmbeddedTransport(store)

    municipality = Municipality(
        name="Oslo kommune", her_id=spec["municipality"], vendor="cosdoc", adapter=adapter,
        routes=(ServiceRoute(mock["service"], mock["service"], spec["service"]),),
        portal_her_id=spec["portal"])
    engine = Engine(store, [municipality], transport)
    context = NightlyContext(store=store, municipality=municipality, owner="bench",
                             clock=utc_now, settings=NightlySettings(answer_timeout=600.0))

    def pending(*tables: Any) -> int:
        with store.db.read() as connection:
            return sum(connection.execute(select(func.count()).where(
                t.c.state == PENDING)).scalar_one() for t in tables)

    gc.collect()
    baseline = _rss_mb()
    stop = threading.Event()
    loops = [threading.Thread(target=loop, args=(stop,), daemon=True)
             for loop in engine.loops().values()]
    with open(os.devnull, "w") as void, redirect_stderr(void):
        for thread in loops:
            thread.start()
        began = time.perf_counter()
        outcome = run_now(context)
        ran = time.perf_counter() - began
        sent = _until(lambda: not pending(outbox)) - began
        acked = _until(lambda: not store.receipts.pending(spec["municipality"])
                       and not pending(inbox, outbox)) - began
        # The next night: nothing changed, so nothing but the questions is sent.
        again = time.perf_counter()
        second = run_now(context)
        ran_again = time.perf_counter() - again
        stop.set()
        for thread in loops:
            thread.join(timeout=30)
    with store.db.read() as connection:
        stored = connection.execute(select(func.count()).select_from(appointments)).scalar_one()
    store.close()
    adapter.close()
    return {"completed": outcome.completed and second.completed, "run_seconds": ran,
            "sent_seconds": sent, "acked_seconds": acked, "second_seconds": ran_again,
            "baseline_mb": baseline, "peak_mb": _peak_mb(), "stored": stored,
            "counts": outcome.counts, "second_counts": second.counts}


@contextmanager
def _server(code: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(  # noqa: S603 - this interpreter, this package
        [sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    assert process.stdin is not None
    first = process.stdout.readline()
    try:
        yield process, json.loads(first)
    finally:
        if process.poll() is None:
            process.stdin.close()
            process.wait(timeout=120)


@contextmanager
def _backend(production: bool, directory: Path, spec: dict[str, Any]) -> Iterator[None]:
    """A migrated store (and the broker's queues) for the run."""
    from benchmarks.engine_world import _delete_queues, broker  # noqa: PLC0415
    from digidialog.store import Store  # noqa: PLC0415
    from digidialog.testing.services import fresh_postgres_schema  # noqa: PLC0415
    from digidialog.transport import async_queue, error_queue, sync_queue  # noqa: PLC0415
    from digidialog.transport.amqp import AmqpTransport  # noqa: PLC0415

    with ExitStack() as stack:
        if production:
            from benchmarks.engine_world import postgres  # noqa: PLC0415

            spec["store_url"] = stack.enter_context(fresh_postgres_schema(postgres(),
                                                                          prefix="bench"))
            spec["amqp"] = broker()
            queues = [f(h) for h in (spec["municipality"], spec["portal"])
                      for f in (async_queue, sync_queue, error_queue)]
            declaring = AmqpTransport(spec["amqp"])
            declaring.declare_queues(queues)
            declaring.close()
            stack.callback(_delete_queues, queues)
        else:
            spec["store_url"] = f"sqlite:///{directory / 'digidialog.db'}"
            spec["amqp"] = None
        Store.open(spec["store_url"]).close()
        yield


def measure_size(citizens: int, count: int, *, production: bool) -> dict[str, Any]:
    """One nightly run of ``citizens`` and ``count`` appointments, in fresh processes."""
    with tempfile.TemporaryDirectory(prefix="nightly-bench-") as directory:
        ids = str(Path(directory) / "ids.txt")
        spec: dict[str, Any] = {"municipality": _her_id(), "service": _her_id(),
                                "portal": _her_id()}
        with _backend(production, Path(directory), spec):
            kind, url = ("amqp", spec["amqp"]) if production else ("embedded", spec["store_url"])
            mock_code = ("from benchmarks.nightly_world import serve_mock; "
                         f"serve_mock({citizens}, {count}, {ids!r})")
            portal_code = ("from benchmarks.nightly_world import serve_portal; "
                           f"serve_portal({kind!r}, {url!r}, {spec['portal']!r}, {ids!r})")
            with _server(mock_code) as (_mock, settings), _server(portal_code) as (portal, _):
                spec["mock"] = settings
                done = subprocess.run(  # noqa: S603
                    [sys.executable, "-c", "import json, sys; from benchmarks.nightly_run "
                     "import run_child; print(json.dumps(run_child(json.loads(sys.argv[1]))))",
                     json.dumps(spec)], cwd=ROOT, capture_output=True, text=True, check=True)
                assert portal.stdin is not None
                assert portal.stdout is not None
                portal.stdin.close()
                heard = json.loads(portal.stdout.read().strip().splitlines()[-1])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(citizens=citizens, appointments=settings["per_day"] * settings["days"],
                  portal=heard, backend="PostgreSQL + RabbitMQ" if production
                  else "SQLite + embedded")
    return result


def measure(quick: bool) -> list[dict[str, Any]]:
    """Both sizes, each in fresh processes, on the servers when they are here."""
    from benchmarks.engine_world import missing_servers  # noqa: PLC0415

    production = missing_servers() is None
    return [measure_size(c, a, production=production)
            for c, a in (QUICK_SIZES if quick else SIZES)]


def rows(measured: list[dict[str, Any]]) -> list[list[str]]:
    """One row per size, with the verdict against every target."""
    peaks = [float(m["peak_mb"]) for m in measured]
    flat = len(peaks) < 2 or peaks[-1] <= peaks[0] * FLAT_GROWTH
    made = []
    for m in measured:
        heard = m["portal"]
        second = m["second_counts"].get("overview", {})
        correct = (m["completed"] and heard["overviews"] == m["citizens"]
                   and not second.get("sent") and second.get("unchanged") == m["citizens"]
                   and not heard["duplicates"] and not heard["violations"]
                   and m["stored"] == m["appointments"])
        missed = [name for name, met in (
            ("acked", m["acked_seconds"] < SECONDS_LIMIT),
            ("peak", m["peak_mb"] < MEMORY_LIMIT_MB), ("not flat", flat)) if not met]
        made.append([
            f"{m['citizens']:,} citizens, {m['appointments']:,} appointments", m["backend"],
            f"{m['run_seconds']:,.1f}", f"{m['sent_seconds']:,.1f}",
            f"{m['acked_seconds']:,.1f}", f"{m['second_seconds']:,.1f}",
            f"{m['peak_mb']:,.1f}",
            f"{m['peak_mb'] - m['baseline_mb']:,.1f}", f"{m['stored']:,}",
            f"{heard['overviews']:,}",
            "FAIL (wrong result)" if not correct
            else "FAIL: " + ", ".join(missed) if missed else "PASS",
        ])
    return made


if __name__ == "__main__":
    for line in rows(measure("--quick" in sys.argv)):
        print(line)
