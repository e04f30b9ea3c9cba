"""Smoke test of ``python -m benchmarks``: it runs end to end and reports every row.

No timing is asserted here; the rate targets live in the benchmarks' own
report, where FAIL is printed.
"""

from __future__ import annotations

import pytest
from benchmarks.__main__ import main, parse_settings, run
from benchmarks.codec_rates import QUICK, Settings
from benchmarks.fixtures import APPOINTMENT_COUNT, EKONTAKT, PLANNED, build_cases

from digidialog.domain import AppointmentStatus
from digidialog.helsenorge.codec import decode

ONCE = Settings(warmup=0, repeat=1, min_seconds=0.0)


def test_fixtures_are_what_the_issue_asks_for() -> None:
    """The two messages decode back to their models and hold the required mix."""
    citizen, planned = build_cases()
    assert decode(citizen.data) == citizen.message
    assert citizen.message.on_behalf_of is not None
    assert len(citizen.message.body or "") >= 300
    assert decode(planned.data) == planned.message
    appointments = planned.message.appointments
    assert len(appointments) == APPOINTMENT_COUNT
    assert {a.status for a in appointments} == {
        AppointmentStatus.PLANNED,
        AppointmentStatus.ASSIGNED,
        AppointmentStatus.CANCELLED,
    }
    assert any(a.recurrence is not None and a.recurrence.paused for a in appointments)
    assert any(len(a.employees) == 2 for a in appointments)
    assert all(
        a.cancellation_reason is not None
        for a in appointments
        if a.status is AppointmentStatus.CANCELLED
    )


def test_fixtures_are_deterministic() -> None:
    """Every run measures the same bytes."""
    assert [c.data for c in build_cases()] == [c.data for c in build_cases()]


def test_report_has_a_row_per_case_and_operation() -> None:
    """Decode and encode of both cases, each with a verdict, a decode-cost row per case,
    and both memory rows."""
    report = run(ONCE, include_vendors=False)
    lines = report.splitlines()
    for case in (EKONTAKT, PLANNED):
        for operation in ("decode", "encode"):
            row = [line for line in lines if line.startswith(case) and f" {operation} " in line]
            assert len(row) == 1, f"no single row for {case} {operation}"
            assert row[0].endswith(("PASS", "FAIL"))
    for case in (EKONTAKT, PLANNED):
        # The decode-cost table gives durations; the rates table gives none.
        costs = [line for line in lines
                 if line.startswith(case) and ("µs" in line or " ms" in line)]
        assert len(costs) == 1, f"no single decode cost row for {case}"
    assert any("peak while decoding" in line for line in lines)
    assert any("retained PortalMessage" in line for line in lines)


def test_quick_flag_and_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    """``--quick`` picks the CI settings, and the exit status is 0 even on FAIL."""
    assert parse_settings(["--quick"]) == QUICK
    assert parse_settings(["--quick", "--repeat", "2"]).repeat == 2
    assert main(["--quick", "--codecs-only"]) == 0
    assert "Raw msg/s" in capsys.readouterr().out
