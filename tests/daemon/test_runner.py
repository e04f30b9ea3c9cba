"""The loop runner: restarts after failures, liveness, and a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from digidialog.daemon.health import Health
from digidialog.daemon.metrics import Metrics
from digidialog.daemon.runner import Backoff, Runner

FAST = Backoff(initial=0.01, maximum=0.05)


def wait_for(condition: threading.Event, what: str) -> None:
    """Wait (bounded) for ``condition``, failing with ``what`` if it never comes."""
    assert condition.wait(10), f"timed out waiting for {what}"


def test_backoff_doubles_up_to_its_maximum() -> None:
    """1, 2, 4 ... seconds, never more than the maximum."""
    backoff = Backoff()
    assert [backoff.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_loop_that_raises_is_restarted_logged_and_counted() -> None:
    """Two failures, two restarts; the third run works until it is asked to stop."""
    calls: list[int] = []
    steady = threading.Event()

    def flaky(stop: threading.Event) -> None:
        calls.append(1)
        if len(calls) <= 2:
            raise ConnectionError(f"broker gone ({len(calls)})")
        steady.set()
        stop.wait()

    metrics = Metrics()
    runner = Runner(backoff=FAST, metrics=metrics)
    runner.add("portal", flaky)
    with capture_logs() as logs:
        runner.start()
        wait_for(steady, "the third run")
        assert runner.alive()
        runner.stop()
        assert runner.join(5) == []
    assert runner.restarts("portal") == 2
    assert metrics.registry.get_sample_value("digidialog_loop_restarts_total",
                                             {"loop": "portal"}) == 2
    failed = [e for e in logs if e["event"] == "loop_failed"]
    assert [e["loop"] for e in failed] == ["portal", "portal"]
    restarting = [e for e in logs if e["event"] == "loop_restarting"]
    assert [e["why"] for e in restarting] == ["ConnectionError: broker gone (1)",
                                              "ConnectionError: broker gone (2)"]
    assert [e["in_seconds"] for e in restarting] == [0.01, 0.02]


def test_a_loop_that_returns_unasked_is_restarted() -> None:
    """Returning before stop is set counts as a failure too."""
    calls: list[int] = []
    third = threading.Event()

    def quitter(stop: threading.Event) -> None:
        calls.append(1)
        if len(calls) == 3:
            third.set()
            stop.wait()

    runner = Runner(backoff=FAST)
    runner.add("feed", quitter)
    runner.start()
    wait_for(third, "the third run")
    runner.stop()
    assert runner.join(5) == []
    assert runner.restarts("feed") == 2


def test_the_delay_starts_over_after_a_long_healthy_run() -> None:
    """Quick failures back off; a failure after a run longer than the maximum starts at initial."""
    calls: list[int] = []
    done = threading.Event()

    def sometimes(stop: threading.Event) -> None:
        calls.append(1)
        if len(calls) == 4:
            time.sleep(0.3)
        if len(calls) == 5:
            done.set()
            stop.wait()
            return
        raise RuntimeError("failed")

    runner = Runner(backoff=Backoff(initial=0.01, maximum=0.2))
    runner.add("nightly", sometimes)
    with capture_logs() as logs:
        runner.start()
        wait_for(done, "the fifth run")
        runner.stop()
        runner.join(5)
    delays = [e["in_seconds"] for e in logs if e["event"] == "loop_restarting"]
    assert delays == [0.01, 0.02, 0.04, 0.01]


def test_liveness_reaches_health() -> None:
    """Not live before start; live while every loop runs; not live once stopping."""
    health = Health()
    running = threading.Event()

    def loop(stop: threading.Event) -> None:
        running.set()
        stop.wait()

    runner = Runner(health=health)
    runner.add("loop", loop)
    assert not health.live()
    runner.start()
    wait_for(running, "the loop")
    assert health.live()
    later = threading.Event()

    def added_later(stop: threading.Event) -> None:
        later.set()
        stop.wait()

    runner.add("later", added_later)
    wait_for(later, "the loop added after start")
    assert health.live()
    runner.stop()
    assert not health.live()
    assert runner.join(5) == []
    with pytest.raises(ValueError, match="already registered"):
        runner.add("loop", loop)


def test_run_returns_when_stopped_and_runs_the_hooks_in_order() -> None:
    """run() ends on stop(); hooks run after the loops, a failing hook does not stop the rest."""
    order: list[str] = []

    def loop(stop: threading.Event) -> None:
        stop.wait()
        order.append("loop finished")

    def failing_hook() -> None:
        order.append("failing hook")
        raise OSError("disk gone")

    runner = Runner(grace=5)
    runner.add("loop", loop)
    runner.on_shutdown(failing_hook)
    runner.on_shutdown(lambda: order.append("release leases"))
    threading.Timer(0.2, runner.stop).start()
    assert runner.run() == 0
    assert order == ["loop finished", "failing hook", "release leases"]


def test_a_loop_exiting_the_thread_stops_the_daemon_with_exit_code_1() -> None:
    """SystemExit from a loop is not restarted: the daemon stops so its supervisor sees it."""

    def exits(_stop: threading.Event) -> None:
        raise SystemExit(3)

    def other(stop: threading.Event) -> None:
        stop.wait()

    runner = Runner(grace=5, backoff=FAST)
    runner.add("exits", exits)
    runner.add("other", other)
    assert runner.run() == 1
    assert runner.restarts("exits") == 0


# ------------------------------------------------------------ signals, for real

SCRIPT = """
import os, signal, sys, threading, time
from digidialog import log
from digidialog.daemon.runner import Backoff, Runner

log.configure()
mode, grace = sys.argv[1], float(sys.argv[2])

def worker(stop):
    print("ready", flush=True)
    if mode == "self":
        os.kill(os.getpid(), signal.SIGTERM)
    while not stop.is_set():
        time.sleep(0.02)
    time.sleep(0.3)  # the in-flight item is finished after the stop was asked
    print("in-flight work finished", flush=True)

def stubborn(stop):
    print("ready", flush=True)
    while True:
        time.sleep(0.05)

runner = Runner(grace=grace, backoff=Backoff(initial=0.05, maximum=0.2))
runner.add("worker", stubborn if mode == "stubborn" else worker)
runner.on_shutdown(lambda: print("leases handed back", flush=True))
code = runner.run()
print(f"exit {code}", flush=True)
sys.exit(code)
"""


def start_daemon(tmp_path: Path, mode: str, grace: float) -> subprocess.Popen[str]:
    """The script above in its own process, once its loop is running."""
    script = tmp_path / "daemon.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), mode, str(grace)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    return process


def finish(process: subprocess.Popen[str]) -> tuple[int, list[str], list[dict[str, object]]]:
    """Exit code, stdout lines and JSON log events of a process that is ending."""
    out, err = process.communicate(timeout=20)
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return process.returncode, out.splitlines(), events


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_in_flight_work_then_exits_0(
        tmp_path: Path, sent: signal.Signals) -> None:
    """SIGTERM/SIGINT: the loop finishes its item, the hooks hand work back, exit code 0."""
    process = start_daemon(tmp_path, "worker", grace=10)
    os.kill(process.pid, sent)
    code, lines, events = finish(process)
    assert code == 0
    assert lines == ["in-flight work finished", "leases handed back", "exit 0"]
    assert {"event": "runner_stopped", "clean": True}.items() <= events[-1].items()


def test_a_daemon_signalling_itself_stops_the_same_way(tmp_path: Path) -> None:
    """``os.kill(os.getpid(), SIGTERM)`` from inside a loop is handled like an outside signal."""
    process = start_daemon(tmp_path, "self", grace=10)
    code, lines, _ = finish(process)
    assert (code, lines) == (0, ["in-flight work finished", "leases handed back", "exit 0"])


def test_a_loop_that_will_not_stop_is_left_after_the_grace_period(tmp_path: Path) -> None:
    """After ``grace`` seconds the runner gives up on it, still runs the hooks, exits 1."""
    process = start_daemon(tmp_path, "stubborn", grace=0.5)
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code, lines, events = finish(process)
    assert time.monotonic() - began < 10
    assert (code, lines) == (1, ["leases handed back", "exit 1"])
    assert any(e["event"] == "loops_not_stopped" and e["loops"] == ["worker"] for e in events)


def test_a_second_signal_stops_the_waiting(tmp_path: Path) -> None:
    """With a long grace period, a second SIGTERM ends the wait at once."""
    process = start_daemon(tmp_path, "stubborn", grace=60)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code, lines, _ = finish(process)
    assert time.monotonic() - began < 10
    assert (code, lines) == (1, ["leases handed back", "exit 1"])
