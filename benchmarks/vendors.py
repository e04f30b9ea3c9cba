"""The vendor adapters' rows of the benchmark report.

Each vendor module (``benchmarks/vendor_<name>.py``) measures its own adapter:
``measure(quick)`` gives appointments mapped per second for a 500-appointment
reply, next to zeep's own deserialisation and to raw lxml parse-to-dicts of the
same bytes, measured in the same run; CosDoc's ``export_memory(quick)`` streams
a nightly export and reports peak memory.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType

VENDORS = ("gerica", "profil", "cosdoc")
ZEEP_FACTOR = 10.0
"""Target: at least this many times zeep's rate."""
LXML_SLACK = 1.5
"""Target: within this factor of raw lxml parse-to-dicts."""
EXPORT_LIMIT_MB = 150.0
FLAT_GROWTH = 1.25
"""Doubling the export may grow peak memory by at most this factor to count as flat."""

MAPPING_HEADERS = ("Vendor", "Case", "Ours/s", "zeep/s", "lxml/s", "vs zeep", "vs lxml",
                   "Result")
EXPORT_HEADERS = ("Vendor", "Case", "Appointments", "Peak MB", "Seconds", "Result")


def _module(vendor: str) -> ModuleType:
    return importlib.import_module(f"benchmarks.vendor_{vendor}")


def mapping_rows(quick: bool) -> list[list[str]]:
    """One row per vendor reply measured, with the verdict against both targets."""
    rows = []
    for vendor in VENDORS:
        for row in _module(vendor).measure(quick):
            ours, zeep, raw = (float(row[k]) for k in ("ours_per_s", "zeep_per_s", "lxml_per_s"))
            passed = ours >= ZEEP_FACTOR * zeep and ours * LXML_SLACK >= raw
            rows.append([
                str(row["vendor"]), str(row["case"]), f"{ours:,.0f}", f"{zeep:,.0f}",
                f"{raw:,.0f}", f"{ours / zeep:.1f}x", f"{raw / ours:.2f}x slower",
                "PASS" if passed else "FAIL",
            ])
    return rows


def export_rows(quick: bool) -> list[list[str]]:
    """CosDoc's streamed export: peak memory, under the limit and flat when doubled."""
    measured: Sequence[dict[str, object]] = _module("cosdoc").export_memory(quick)
    peaks = [float(str(r["peak_mb"])) for r in measured]
    flat = len(peaks) < 2 or peaks[-1] <= peaks[0] * FLAT_GROWTH
    rows = []
    for row, peak in zip(measured, peaks, strict=True):
        passed = peak < EXPORT_LIMIT_MB and flat
        rows.append([
            str(row["vendor"]), str(row["case"]), f"{int(str(row['appointments'])):,}",
            f"{peak:,.1f}", f"{float(str(row['seconds'])):,.1f}", "PASS" if passed else "FAIL",
        ])
    return rows
