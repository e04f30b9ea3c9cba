"""Mapping a 500-appointment Gerica HentAvtaler reply: ours, zeep's, and raw lxml.

The same bytes for all three, a reply as the Gerica mock writes it for one
citizen with a realistic mix of visits (mostly assigned, some done, planned
with and without a recurrence, some cancelled):

- ours: what the adapter does with a reply, from bytes to domain
  Appointments: the hardened parse (``digidialog.xml.safe.parse``), the SOAP body and
  fault check, and :func:`digidialog_gerica.mapping.read_appointments_page`;
- zeep: zeep's own deserialisation of the same reply with the operation's
  output message (``parse_xml`` with the client's settings, then
  ``process_reply`` of the bound operation), as ``client.service`` would;
- lxml: the floor: a plain ``etree.fromstring`` and one dict per ``Avtale``
  holding the text of each child.

Rates are appointments per second, timed as :mod:`timeit` does (garbage
collector off, best repetition, process time), the three in turns so that a
busy machine slows all of them alike. Targets: ours at least 10 times zeep,
and at least the lxml rate divided by 1.5.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree
from zeep.loader import parse_xml

from digidialog.adapters import soap
from digidialog.adapters.soap import CallPolicy, SoapVersion
from digidialog.domain import Frequency, Recurrence, Weekday
from digidialog.domain.timezone import OSLO
from digidialog.xml import safe
from digidialog_gerica import mapping
from digidialog_gerica.mock import render
from digidialog_gerica.mock.records import Visit
from digidialog_gerica.rrule import format_rrule
from digidialog_gerica.wire import NS, Operation, wsdl_file

APPOINTMENTS = 500
CITIZEN = "13116900216"
SERVICE_NAMES = {"HSP": "Hjemmesykepleie", "PB": "Praktisk bistand"}
ZEEP_TARGET = 10.0
LXML_TARGET = 1.5
_TASKS = ("Morgenstell og medisiner", "Sårstell", "Rengjøring", "Handling", "Kveldsstell",
          "Tilsyn og medisiner", "Dusj", "Øyedråper")
_EMPLOYEES = ("Ola Pleier", "Kari Sykepleier", "Mona Helsefagarbeider", "Ánte Ŋuolla")
_WEEKDAYS = format_rrule(Recurrence(frequency=Frequency.WEEKLY, by_day=(
    Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR), until=datetime(
    2026, 6, 30, tzinfo=UTC).date()))


def _visit(number: int, first: datetime) -> Visit:
    """Visit ``number``: four a day, 08:00, 11:00, 14:00, 19:00 on the Oslo clock."""
    day, slot = divmod(number, 4)
    start = (first + timedelta(days=day)).replace(hour=(8, 11, 14, 19)[slot]).astimezone(UTC)
    end = start + timedelta(minutes=(30, 45, 60)[number % 3])
    kind = number % 20
    status = ("TILDELT" if kind < 12 else "UTFORT" if kind < 15 else
              "PLANLAGT" if kind < 18 else "AVLYST")
    return Visit(
        avtale_id=f"GER-AVT-{100000 + number}", citizen_id=CITIZEN,
        service_code="HSP" if number % 3 else "PB", status=status, start=start,
        end=end if status != "PLANLAGT" else start + timedelta(hours=2),
        description=_TASKS[number % len(_TASKS)],
        changed=start - timedelta(days=3, minutes=number),
        rule=_WEEKDAYS if status == "PLANLAGT" and kind == 15 else None,
        employee=_EMPLOYEES[number % 4] if status in ("TILDELT", "UTFORT") else None,
        done_at=end + timedelta(minutes=2) if status == "UTFORT" else None,
        cancelled_by=("BRUKER", "TJENESTE")[number % 2] if status == "AVLYST" else None,
    )


def reply_bytes(count: int = APPOINTMENTS) -> bytes:
    """A HentAvtaler reply holding ``count`` appointments, as the Gerica mock writes it."""
    first = datetime(2026, 3, 2, tzinfo=OSLO)
    svar = render.answer(Operation.HENT_AVTALER)
    for number in range(count):
        render.avtale(svar, _visit(number, first))
    render.add(svar, "Side", "1")
    render.add(svar, "AntallSider", "1")
    return render.envelope(svar)


def ours(data: bytes) -> Callable[[], list[Any]]:
    """The adapter's own path, from bytes to domain Appointments."""
    limit = CallPolicy().max_reply_bytes
    reply_tag = Operation.HENT_AVTALER.reply_tag

    def read() -> list[Any]:
        content = soap.soap_body(safe.parse(data, max_bytes=limit), SoapVersion.V11)
        if soap.read_fault(content, SoapVersion.V11, 200) is not None:
            raise AssertionError("the benchmark reply is a fault")
        appointments, _, _ = mapping.read_appointments_page(
            mapping.expect(content, reply_tag), SERVICE_NAMES, citizen_id=CITIZEN)
        return appointments

    return read


def zeep_deserialiser(data: bytes) -> Callable[[], Any]:
    """zeep's deserialisation of the reply with HentAvtaler's output message."""
    client = soap.load_client(wsdl_file())
    operation = client.service._binding.get(Operation.HENT_AVTALER.value)

    def read() -> Any:
        document = parse_xml(data, client.transport, settings=client.settings)
        return operation.process_reply(document)

    return read


def raw_lxml(data: bytes) -> Callable[[], list[dict[Any, Any]]]:
    """Plain lxml: one dict per Avtale with the text of each child."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    avtale = NS + "Avtale"

    def read() -> list[dict[Any, Any]]:
        root = etree.fromstring(data, parser)
        return [{child.tag: child.text for child in element} for element in root.iter(avtale)]

    return read


def _seconds(function: Callable[[], object], number: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        began = time.process_time()
        for _ in range(number):
            function()
        return time.process_time() - began
    finally:
        if enabled:
            gc.enable()


def best_seconds(functions: dict[str, Callable[[], object]], *, quick: bool) -> dict[str, float]:
    """The best time of one call of each, in turns, each repetition lasting long enough."""
    least = 0.02 if quick else 0.25
    repeat = 3 if quick else 9
    numbers = {}
    for name, function in functions.items():
        function()
        number = 1
        while _seconds(function, number) < least:
            number *= 2
        numbers[name] = number
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeat):
        for name, function in functions.items():
            best[name] = min(best[name], _seconds(function, numbers[name]) / numbers[name])
    return best


def measure(quick: bool) -> list[dict[str, object]]:
    """One row: appointments per second for ours, zeep and raw lxml on the same reply."""
    data = reply_bytes()
    checks = (ours(data)(), zeep_deserialiser(data)(), raw_lxml(data)())
    if not len(checks[0]) == len(checks[1]["Avtale"]) == len(checks[2]) == APPOINTMENTS:
        raise AssertionError("the three readers disagree on the number of appointments")
    seconds = best_seconds(
        {"ours": ours(data), "zeep": zeep_deserialiser(data), "lxml": raw_lxml(data)},
        quick=quick,
    )
    return [{
        "vendor": "gerica",
        "case": f"HentAvtaler reply, {APPOINTMENTS} appointments ({len(data) // 1024} KiB)",
        "ours_per_s": APPOINTMENTS / seconds["ours"],
        "zeep_per_s": APPOINTMENTS / seconds["zeep"],
        "lxml_per_s": APPOINTMENTS / seconds["lxml"],
    }]


def verdict(row: dict[str, Any]) -> str:
    """The row against both targets, in words."""
    versus_zeep = row["ours_per_s"] / row["zeep_per_s"]
    versus_lxml = row["lxml_per_s"] / row["ours_per_s"]
    return (
        f"ours/zeep = {versus_zeep:.1f}x (target >= {ZEEP_TARGET:.0f}x: "
        f"{'PASS' if versus_zeep >= ZEEP_TARGET else 'FAIL'}); "
        f"lxml/ours = {versus_lxml:.2f}x (target <= {LXML_TARGET}x: "
        f"{'PASS' if versus_lxml <= LXML_TARGET else 'FAIL'})"
    )


if __name__ == "__main__":
    import sys

    for result in measure(quick="--quick" in sys.argv):
        print(f"{result['case']}: ours {result['ours_per_s']:,.0f}/s, "
              f"zeep {result['zeep_per_s']:,.0f}/s, lxml {result['lxml_per_s']:,.0f}/s")
        print(verdict(result))
