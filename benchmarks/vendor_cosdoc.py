"""CosDoc: mapping an AVTALER answer, three ways, and the streamed export's memory.

:func:`measure` maps one AVTALER answer of 500 appointments (the same bytes for
all three, made by the CosDoc mock) and reports appointments per second:

- *ours*: what the adapter does: the shared endpoint's hardened parse of the
  envelope and its fault and Status checks, base64, the hardened parse of the
  Latin-1 document, and the mapping of every ``Avtale`` to a validated domain
  :class:`~digidialog.domain.Appointment`;
- *zeep*: zeep's own deserialisation of the envelope (its ``process_reply``),
  then zeep's deserialisation of the document against the CosDoc answer schema
  (what a zeep-only client would do), to zeep objects;
- *lxml*: the least any reader does: ``etree.fromstring`` of the envelope,
  base64, ``etree.fromstring`` of the document, each ``Avtale`` into a plain dict.

Targets: ours at least 10 times zeep, and at least lxml / 1.5.

:func:`export_memory` streams EKSPORT_AVTALER replies of 300,000 and 600,000
appointments (quick: 30,000 and 60,000), generated piece by piece by the mock's
own generator, through the adapter's streaming reader, in a fresh process each,
and reports the peak resident-set growth above the process's state before the
export (which covers libxml2's memory, unlike tracemalloc). Target: under
150 MB, and flat when the export doubles.
"""

from __future__ import annotations

import base64
import gc
import json
import resource
import subprocess
import sys
import time
import types
from collections.abc import Callable
from datetime import date
from itertools import cycle
from pathlib import Path

import requests
import zeep
from lxml import etree

from digidialog.adapters.soap import SoapVersion, load_client
from digidialog_cosdoc.appointments import AVTALE, read_avtale
from digidialog_cosdoc.client import CosDocEndpoint, answer_document, map_fault
from digidialog_cosdoc.export import read_appointments
from digidialog_cosdoc.mock.answers import avtaler
from digidialog_cosdoc.mock.export import export_envelope, synthetic_records
from digidialog_cosdoc.mock.server import utfor_svar
from digidialog_cosdoc.mock.state import Avtale, CosDocStore
from digidialog_cosdoc.stream import EnvelopeStream
from digidialog_cosdoc.wire import ANSWER_XSD, SOAP_ACTION, WSDL, Kommando, d, i, schema

VENDOR = "cosdoc"
APPOINTMENTS = 500
EXPORT_SIZES = (300_000, 600_000)
QUICK_EXPORT_SIZES = (30_000, 60_000)
TARGET_ZEEP_RATIO = 10.0
TARGET_LXML_FRACTION = 1 / 1.5
MEMORY_TARGET_MB = 150.0
_DAY = date(2026, 3, 2)
_TEXTS = ("Morgenstell og medisiner", "Sårstell, høyre legg", "Besøk hos Áilu Ŋuolla 👵🏽",
          "Praktisk bistand: rengjøring", "Tilsyn kveld")


def avtaler_answer(count: int = APPOINTMENTS) -> tuple[bytes, dict[str, str]]:
    """An UtforSvar envelope answering AVTALER with ``count`` appointments, from the mock;
    and the service names the adapter would know."""
    store = CosDocStore()
    patient = store.add_patient("13116900216", "Line Danser", [101, 102], digital=True)
    statuses = cycle(("T", "T", "P", "U", "A"))
    for n in range(count):
        status = next(statuses)
        minute = 6 * 60 + (n * 13) % (16 * 60)
        store.add_avtale(Avtale(
            nr=store.next_avtale_nr(), pasient_nr=patient, tjeneste_id=101 + n % 2,
            status=status, dato=date.fromordinal(_DAY.toordinal() + n // 20),
            fra_kl=f"{minute // 60:02d}:{minute % 60:02d}",
            til_kl=f"{(minute + 45) // 60:02d}:{(minute + 45) % 60:02d}",
            gjentas=status == "P", ansatt="Kari Sykepleier" if status in "TU" else None,
            tekst=_TEXTS[n % len(_TEXTS)],
            utfort_kl=f"{(minute + 40) // 60:02d}:{(minute + 40) % 60:02d}:12"
            if status == "U" else None,
            avlyst_av="P" if status == "A" else None,
        ), announce=False)
    request = etree.fromstring(
        f'<AVTALER xmlns="urn:cosdoc:dokument:1"><PasientNr>{patient}</PasientNr>'
        f"<FraDato>2026-01-01</FraDato><TilDato>2026-12-31</TilDato></AVTALER>".encode())
    names = {str(t.id): t.navn for t in store.tjenester.values()}
    return utfor_svar(avtaler(store, request)), names


def _reply(data: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "text/xml; charset=utf-8"
    response._content = data
    return response


def ours(names: dict[str, str]) -> Callable[[bytes], int]:
    """The adapter's path, from reply bytes to domain appointments."""
    endpoint = CosDocEndpoint(load_client(schema(WSDL)), "https://cosdoc.invalid/Integrasjon",
                              requests.Session(), action=lambda _: SOAP_ACTION,
                              fault_mapper=map_fault, version=SoapVersion.V11)

    def run(data: bytes) -> int:
        answer = endpoint.interpret(_reply(data), data)
        root = answer_document(Kommando.AVTALER, answer)
        return len([read_avtale(element, names)[1] for element in root.iterchildren(AVTALE)])

    return run


def zeep_path() -> Callable[[bytes], int]:
    """zeep's deserialisation of the envelope, then of the document against the schema."""
    client = load_client(schema(WSDL))
    binding = client.service._binding
    operation = binding._operations["Utfor"]
    documents = zeep.xsd.Schema(etree.parse(str(schema(ANSWER_XSD))).getroot(),
                                transport=client.transport, location=str(schema(ANSWER_XSD)),
                                settings=client.settings)
    element = documents.get_element(d(Kommando.AVTALER))

    def run(data: bytes) -> int:
        response = types.SimpleNamespace(status_code=200, content=data, encoding="utf-8",
                                         headers={"Content-Type": "text/xml; charset=utf-8"})
        result = binding.process_reply(client, operation, response)
        document = etree.fromstring(result.Dokument)
        parsed = element.parse(document, documents)
        return len(parsed.Avtale)

    return run


def lxml_path(data: bytes) -> int:
    """Raw lxml: envelope, base64, document, each Avtale into a dict of its children."""
    envelope = etree.fromstring(data)
    text = envelope.findtext(f"{{http://schemas.xmlsoap.org/soap/envelope/}}Body/"
                             f"{i('UtforSvar')}/{i('Dokument')}")
    document = etree.fromstring(base64.b64decode(text or ""))
    cut = len("{urn:cosdoc:dokument:1}")
    rows = [{child.tag[cut:]: child.text for child in avtale}  # type: ignore[index]
            for avtale in document]
    return len(rows)


def _rate(run: Callable[[bytes], int], data: bytes, *, quick: bool) -> float:
    """Appointments per second: best of several timed repetitions, after a warm-up."""
    count = run(data)
    repeat, min_seconds = (3, 0.05) if quick else (7, 0.3)
    best = float("inf")
    for _ in range(repeat):
        loops, began = 0, time.perf_counter()
        while True:
            run(data)
            loops += 1
            elapsed = time.perf_counter() - began
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / loops)
    return count / best


def measure(quick: bool) -> list[dict[str, object]]:
    """Rates of mapping a 500-appointment AVTALER answer: ours, zeep, raw lxml."""
    data, names = avtaler_answer()
    row: dict[str, object] = {
        "vendor": VENDOR,
        "case": f"AVTALER answer, {APPOINTMENTS} appointments -> domain",
        "ours_per_s": round(_rate(ours(names), data, quick=quick)),
        "zeep_per_s": round(_rate(zeep_path(), data, quick=quick)),
        "lxml_per_s": round(_rate(lxml_path, data, quick=quick)),
    }
    return [row]


# ------------------------------------------------------------------ export memory


def _rss_mb() -> float:
    """The resident set now (Linux), or the peak so far where /proc is missing."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * resource.getpagesize() / 1024**2
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024


def stream_export(count: int) -> dict[str, object]:
    """In this process: stream an export of ``count`` appointments through the reader."""
    names = {"101": "Hjemmesykepleie", "102": "Praktisk bistand"}
    warm = EnvelopeStream(export_envelope(synthetic_records(2000, _DAY, [100_001])))
    warm.seek_document()
    for _ in read_appointments(warm.document_bytes(), names):
        pass
    gc.collect()
    baseline = _rss_mb()
    peak = baseline
    began = time.perf_counter()
    patients = list(range(100_001, 120_001))
    stream = EnvelopeStream(export_envelope(synthetic_records(count, _DAY, patients)))
    stream.seek_document()
    seen = 0
    for _ in read_appointments(stream.document_bytes(), names):
        seen += 1
        if seen % 5000 == 0:
            peak = max(peak, _rss_mb())
    seconds = time.perf_counter() - began
    peak = max(peak, _rss_mb())
    return {"vendor": VENDOR, "case": f"EKSPORT_AVTALER streamed, {count:,} appointments",
            "appointments": seen, "peak_mb": round(peak - baseline, 1),
            "seconds": round(seconds, 2)}


def export_memory(quick: bool) -> list[dict[str, object]]:
    """Peak memory of streaming exports of two sizes, each in a fresh process."""
    rows = []
    for count in QUICK_EXPORT_SIZES if quick else EXPORT_SIZES:
        done = subprocess.run(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-c",
             "import json, sys; from benchmarks.vendor_cosdoc import stream_export; "
             f"print(json.dumps(stream_export({count})))"],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


if __name__ == "__main__":
    quick_mode = "--quick" in sys.argv
    for result in (*measure(quick_mode), *export_memory(quick_mode)):
        print(result)
