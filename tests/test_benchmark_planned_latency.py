"""Smoke test of the HentPlanlagteTimer latency benchmark: it runs end to end and reports
every row. No timing is asserted here; the target lives in the benchmark's report."""

from __future__ import annotations

import pytest
from benchmarks import planned_latency
from benchmarks.planned_latency import CONCURRENCY, Latencies, Report, render, rows
from benchmarks.planned_stages import STAGES, StageCost

from digidialog.testing.services import amqp_url, postgres_url


def _report(engine_p99: float, echo_p99: float) -> Report:
    def runs(p99: float, name: str) -> Latencies:
        return Latencies(name, [p99 / 2] * 98 + [p99] * 2)
    return Report([runs(0.004, "echo"), runs(0.010, "engine"), runs(echo_p99, "echo"),
                   runs(engine_p99, "engine")], dict.fromkeys(STAGES, StageCost(1e-3, 1e-3, 1)),
                  47_000, 2)


@pytest.mark.parametrize(("engine", "echo", "verdict"), [
    (0.080, 0.050, "PASS"), (0.120, 0.100, "FAIL"), (0.090, 0.040, "FAIL")],
    ids=["within", "over-100-ms", "over-2x"])
def test_the_verdict_needs_both_targets(engine: float, echo: float, verdict: str) -> None:
    """PASS only with the p99 within 2x of the echo's and under 100 ms; only the concurrent
    row has a verdict."""
    table = rows(_report(engine, echo))
    assert [row[1] for row in table] == ["1", "1", str(CONCURRENCY), str(CONCURRENCY)]
    assert table[-1][-1] == verdict
    assert all(row[-1] == "" for row in table[:-1])


def test_without_the_servers_the_section_says_why() -> None:
    """No verdict is claimed without measurements."""
    text = render(Report([], {}, 0, 2, "no AMQP broker is listening"))
    assert "skipped: no AMQP broker is listening" in text
    assert "PASS" not in text and "FAIL" not in text


@pytest.mark.services
def test_the_section_measures_echo_and_engine_on_one_broker() -> None:
    """Alone and at 50: the echo and the engine (every answer checked: 01 with 60 visits),
    and every part of one answer."""
    postgres_url()
    amqp_url()
    report = planned_latency.measure(quick=True)
    assert report.skipped is None
    assert [len(run.samples) for run in report.runs] == [5, 5, 2 * CONCURRENCY, CONCURRENCY]
    assert set(report.stages) == set(STAGES)
    text = render(report)
    assert text.count("bare echo") == 2 and text.count("engine (from the store)") == 2
    assert rows(report)[-1][-1] in ("PASS", "FAIL")
