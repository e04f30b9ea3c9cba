"""The nightly benchmark: a small real run through all its processes, and its verdicts.

No timing is asserted here; the targets live in the benchmark's own report.
"""

from __future__ import annotations

from typing import Any

from benchmarks import nightly_run
from benchmarks.__main__ import render_nightly


def measured(citizens: int, *, acked: float = 100.0, peak: float = 150.0,
             overviews: int | None = None) -> dict[str, Any]:
    """A measurement as ``measure_size`` returns it."""
    return {"citizens": citizens, "appointments": citizens * 30, "backend": "SQLite + embedded",
            "completed": True, "run_seconds": acked / 2, "sent_seconds": acked - 1,
            "acked_seconds": acked, "second_seconds": acked / 3, "baseline_mb": 90.0,
            "peak_mb": peak, "stored": citizens * 30, "counts": {"roster": {"seconds": 1}},
            "second_counts": {"overview": {"unchanged": citizens}},
            "portal": {"questions": 1, "overviews": citizens if overviews is None
                       else overviews, "duplicates": 0, "violations": 0}}


def test_the_verdicts() -> None:
    """Time, memory, flatness and correctness each decide."""
    assert [r[-1] for r in nightly_run.rows([measured(10), measured(20)])] == ["PASS"] * 2
    slow = nightly_run.rows([measured(10, acked=400.0), measured(20)])
    assert [r[-1] for r in slow] == ["FAIL: acked", "PASS"]
    growing = nightly_run.rows([measured(10, peak=100.0), measured(20, peak=200.0)])
    assert [r[-1] for r in growing] == ["FAIL: not flat", "FAIL: not flat"]
    heavy = nightly_run.rows([measured(10, peak=400.0, acked=301.0)])
    assert heavy[0][-1] == "FAIL: acked, peak"
    wrong = nightly_run.rows([measured(10, overviews=9)])
    assert wrong[0][-1] == "FAIL (wrong result)"


def test_a_small_run_goes_through_every_process() -> None:
    """The mock, the portal and the measured run in their own processes: everyone told once,
    every appointment stored; the report renders it."""
    result = nightly_run.measure_size(300, 3_000, production=False)
    assert result["completed"]
    assert result["portal"] == {"questions": 2, "overviews": 300, "duplicates": 0,
                                "violations": 0}
    assert result["second_counts"]["overview"]["unchanged"] == 300
    assert result["stored"] == result["appointments"] > 2_900
    assert result["peak_mb"] > result["baseline_mb"] > 0
    report = render_nightly([result])
    assert "300 citizens" in report and "appointments" in report
