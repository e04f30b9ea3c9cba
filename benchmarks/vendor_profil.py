"""Profil: mapping a 500-visit GetVisits reply, ours against zeep and raw lxml.

``python -m benchmarks.vendor_profil [--quick]`` prints the table; the
benchmark runner calls :func:`measure`.

The same reply bytes go through three readers:

- ours: the adapter's path, bytes to domain ``Appointment`` objects: the
  hardened parse (``digidialog.xml.safe``), the SOAP 1.2 envelope,
  every Visit read and checked, Oslo wall-clock times (with ``isDst``) turned
  into UTC instants, the citizen check;
- zeep: zeep's own deserialisation of the reply into its objects, what a
  plain zeep client would do with the same bytes;
- lxml: the least any reader does: ``etree.fromstring`` and each Visit into a
  plain dict of strings (nested elements into nested dicts).

Rates are appointments per second. Each rate is the best of many short
repetitions, taken in turn so that a busy machine slows all three alike.
Targets: ours at least 10 times zeep, and at least the lxml rate divided by 1.5.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import zeep.loader
from lxml import etree

from digidialog.adapters.soap import SoapVersion, soap_body
from digidialog.domain import Frequency, Recurrence, Weekday
from digidialog.xml import safe
from digidialog_profil.adapter import _client
from digidialog_profil.appointments import visits_page
from digidialog_profil.mock import wire as mock_wire
from digidialog_profil.mock.state import Visit
from digidialog_profil.wire import NAMESPACE

VISITS = 500
CITIZEN = "15076500565"
ZEEP_TARGET = 10.0
LXML_TARGET = 1.5
_PREFIX = len(NAMESPACE) + 2


def reply_bytes(count: int = VISITS) -> bytes:
    """A GetVisitsResponse as Profil sends it: every state, shared series, the autumn hour."""
    series = [
        Recurrence(frequency=Frequency.WEEKLY, by_day=(Weekday.MO, Weekday.WE, Weekday.FR),
                   until=datetime(2026, 12, 31, tzinfo=UTC).date()),
        Recurrence(frequency=Frequency.DAILY, interval=2,
                   until=datetime(2026, 11, 30, tzinfo=UTC).date()),
    ]
    # Starting on 2026-10-24, so that a share of the visits falls in the repeated hour.
    first = datetime(2026, 10, 24, 4, tzinfo=UTC)
    visits = []
    for i in range(count):
        start = first + timedelta(minutes=17 * i)
        state = i % 4
        visits.append(Visit(
            visit_id=500_001 + i, national_id=CITIZEN, service_id=1 + i % 2, state=state,
            start=start, end=start + timedelta(minutes=45),
            text="Morgenstell, medisiner og tilsyn" if i % 3 else "Rengjøring",
            recurrence=series[i % 2] if state == 0 and i % 8 == 0 else None,
            employee="Ánte Ŋuolla" if state in (1, 2) else None,
            done_at=start + timedelta(minutes=40) if state == 2 else None,
            cancelled_by=("Client" if i % 2 else "Provider") if state == 3 else None,
            last_modified=start - timedelta(days=2),
        ))
    return mock_wire.envelope(mock_wire.visits_page(visits, None))


def readers(data: bytes) -> dict[str, Callable[[], int]]:
    """The three readers of ``data``, each returning how many visits it read."""
    client = _client()
    operation = client.service._binding._operations["GetVisits"]

    def ours() -> int:
        envelope = safe.parse(data)
        appointments, _ = visits_page(soap_body(envelope, SoapVersion.V12), CITIZEN)
        return len(appointments)

    def with_zeep() -> int:
        document = zeep.loader.parse_xml(data, client.transport, settings=client.settings)
        return len(operation.process_reply(document).Visit)

    def with_lxml() -> int:
        root = etree.fromstring(data)
        rows = [
            {child.tag[_PREFIX:]: {g.tag[_PREFIX:]: g.text for g in child} if len(child)
             else child.text for child in visit}
            for visit in root[0][0]
        ]
        return len(rows)

    return {"ours": ours, "zeep": with_zeep, "lxml": with_lxml}


def _best_rates(functions: dict[str, Callable[[], int]], rounds: int, seconds: float
                ) -> dict[str, float]:
    """Items per second of each function: the best of ``rounds`` turns, interleaved."""
    counts = {name: function() for name, function in functions.items()}  # warm up
    loops = {}
    for name, function in functions.items():
        number, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds:
            function()
            number += 1
        loops[name] = max(1, number)
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            began = time.perf_counter()
            for _ in range(loops[name]):
                function()
            best[name] = min(best[name], (time.perf_counter() - began) / loops[name])
    return {name: counts[name] / best[name] for name in functions}


def measure(quick: bool) -> list[dict[str, object]]:
    """One row: the rates (appointments per second) of ours, zeep and raw lxml."""
    data = reply_bytes()
    rates = _best_rates(readers(data), rounds=5 if quick else 25,
                        seconds=0.01 if quick else 0.05)
    return [{
        "vendor": "profil",
        "case": f"GetVisits reply, {VISITS} visits ({len(data) // 1024} KiB)",
        "ours_per_s": round(rates["ours"]),
        "zeep_per_s": round(rates["zeep"]),
        "lxml_per_s": round(rates["lxml"]),
    }]


def verdict(row: dict[str, object]) -> str:
    """PASS or FAIL against both targets, with the two ratios."""
    ours, zeep_rate, lxml_rate = (float(str(row[k])) for k in
                                  ("ours_per_s", "zeep_per_s", "lxml_per_s"))
    over_zeep, under_lxml = ours / zeep_rate, lxml_rate / ours
    passed = over_zeep >= ZEEP_TARGET and under_lxml <= LXML_TARGET
    return (f"ours/zeep {over_zeep:.1f} (>= {ZEEP_TARGET:.0f}), "
            f"lxml/ours {under_lxml:.2f} (<= {LXML_TARGET}): {'PASS' if passed else 'FAIL'}")


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="measure briefly (rougher)")
    for row in measure(parser.parse_args().quick):
        print(f"{row['case']}: ours {row['ours_per_s']:,}/s, zeep {row['zeep_per_s']:,}/s, "
              f"lxml {row['lxml_per_s']:,}/s")
        print(verdict(row))


if __name__ == "__main__":
    main()
