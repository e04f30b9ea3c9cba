"""Smoke test of ``python -m benchmarks``: it runs end to end and reports every row.

No timing is asserted here; the rate targets live in the benchmarks' own
report, where FAIL is printed.
"""

from __future__ import annotations

import pytest
from benchmarks import engine_throughput, visit_latency
from benchmarks.__main__ import main, parse_settings, render_engine, render_visits, run
from benchmarks.codec_rates import QUICK, Settings
from benchmarks.engine_stages import STAGES, StageCost
from benchmarks.engine_world import BACKEND_NAMES, EMBEDDED, PRODUCTION
from benchmarks.fixtures import APPOINTMENT_COUNT, EKONTAKT, PLANNED, build_cases

from digidialog.domain import AppointmentStatus
from digidialog.helsenorge.codec import decode
from digidialog.testing.services import amqp_url, postgres_url

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


@pytest.mark.services
def test_engine_section_measures_both_backends_next_to_the_bare_consumer() -> None:
    """The engine runs on PostgreSQL + RabbitMQ and on SQLite + embedded (each checked: every
    message answered OK and in the EPJ once), next to the bare consumer; every table has its
    rows, the broker's rate row and the codec rows a verdict."""
    postgres_url()
    amqp_url()
    report = engine_throughput.measure(quick=True)
    assert [run.backend for run in report.runs] == [PRODUCTION, EMBEDDED]
    assert report.skipped is None and report.bare_per_second is not None
    assert all(set(run.stages) == set(STAGES) for run in report.runs)
    lines = render_engine(report).splitlines()
    rates = [line for line in lines if "engine (to EPJ mock" in line]
    assert len(rates) == 2 and rates[0].endswith(("PASS", "FAIL"))
    assert any("bare consumer" in line for line in lines)
    codec = [line for line in lines if line.startswith(BACKEND_NAMES[PRODUCTION]) and "µs" in line]
    assert len(codec) == 1 and codec[0].endswith(("PASS", "FAIL"))
    for stage in (*STAGES, "sum, one after another", "engine, loops in threads"):
        assert sum(stage in line for line in lines) == 2, stage


def test_engine_section_says_why_the_broker_row_is_missing() -> None:
    """Without the servers, the broker's row names the reason and no verdict is claimed."""
    run = engine_throughput.EngineRun(EMBEDDED, 10, 1800, 0.5, 0.4, 1e-4, 3e-5,
                                      dict.fromkeys(STAGES, StageCost(0.01, 0.01, 1, 3)))
    report = engine_throughput.Report([run], None, "PostgreSQL is not listening")
    rows = engine_throughput.rate_rows(report)
    assert [row[1] for row in rows] == ["engine (to EPJ mock, AppRec back)",
                                       "skipped: PostgreSQL is not listening"]
    assert not any(cell in ("PASS", "FAIL") for cell in rows[0])


def test_visit_latency_is_measured_for_a_pushing_and_a_polled_vendor() -> None:
    """Every visit done arrives once as MOA, with a latency and a verdict per vendor."""
    pushed = visit_latency.measure_vendor("profil", EMBEDDED, 3)
    polled = visit_latency.measure_vendor("gerica", EMBEDDED, 3)
    assert len(pushed.seconds) == len(polled.seconds) == 3
    assert all(s > 0 for s in pushed.seconds + polled.seconds)
    assert pushed.target < polled.target
    table = render_visits([pushed, polled], "no broker here")
    assert "profil  push" in table and "gerica  poll" in table
    assert "embedded backend" in table
