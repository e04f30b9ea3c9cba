"""Running the daemon's loops: one thread each, restarted when they fail, stopped on SIGTERM.

A loop is ``loop(stop: threading.Event) -> None``: it works until ``stop`` is
set, finishing (or handing back) what it holds before it returns. The runner

- starts each named loop in its own thread;
- restarts a loop that raised (or returned unasked) after a growing delay,
  logged and counted, so that no failure crashes the daemon; a loop that has
  run longer than the longest delay starts again from the shortest;
- on SIGTERM or SIGINT sets ``stop`` and waits up to ``grace`` seconds for
  every loop to return, then runs the shutdown hooks (release leases, close
  the store, stop the HTTP server); a second signal stops the waiting;
- tells ``/healthz`` whether the loops run (:meth:`Runner.alive`).

A loop that ends the thread with something other than an ``Exception``
(``SystemExit``) is not restarted: the whole daemon stops, exit code 1, so
that its supervisor sees it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from digidialog.daemon.health import Health
from digidialog.daemon.metrics import Metrics
from digidialog.log import get_logger

log = get_logger("daemon.runner")

Loop = Callable[[threading.Event], None]
ShutdownHook = Callable[[], None]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Backoff:
    """Delays between restarts of a failing loop: ``initial``, doubling, at most ``maximum``."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0

    def delay(self, failures: int) -> float:
        """The wait before the restart that follows the ``failures``-th failure in a row."""
        return min(self.maximum, self.initial * self.factor ** max(0, failures - 1))


class Runner:
    """Named loops in threads, supervised, with a graceful stop."""

    def __init__(self, *, grace: float = 30.0, backoff: Backoff | None = None,
                 metrics: Metrics | None = None, health: Health | None = None) -> None:
        self.grace = grace
        self.backoff = backoff or Backoff()
        self.stop_event = threading.Event()
        self._metrics = metrics
        self._loops: dict[str, Loop] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._restarts: dict[str, int] = {}
        self._died: list[str] = []
        self._hooks: list[ShutdownHook] = []
        self._lock = threading.Lock()
        self._started = False
        self._signals = 0
        if health is not None:
            health.set_liveness(self.alive)

    def add(self, name: str, loop: Loop) -> None:
        """Run ``loop`` under ``name`` (started at once when the runner already runs)."""
        with self._lock:
            if name in self._loops:
                raise ValueError(f"a loop named {name!r} is already registered")
            self._loops[name] = loop
            self._restarts[name] = 0
            if self._started:
                self._start_thread(name, loop)

    def on_shutdown(self, hook: ShutdownHook) -> None:
        """Call ``hook`` once the loops have stopped (hooks run in the order added)."""
        self._hooks.append(hook)

    def start(self) -> None:
        """Start every loop's thread."""
        with self._lock:
            self._started = True
            for name, loop in self._loops.items():
                self._start_thread(name, loop)
        log.info("runner_started", loops=sorted(self._loops))

    def stop(self) -> None:
        """Ask every loop to stop (they finish what they hold, then return)."""
        self.stop_event.set()

    def alive(self) -> bool:
        """Whether the loops run: started, not stopping, and every loop's thread alive."""
        with self._lock:
            threads = list(self._threads.values())
            complete = len(threads) == len(self._loops)
        return (self._started and complete and not self.stop_event.is_set()
                and all(t.is_alive() for t in threads))

    def restarts(self, name: str) -> int:
        """How many times loop ``name`` has been restarted."""
        return self._restarts[name]

    def join(self, timeout: float | None = None) -> list[str]:
        """Wait up to ``timeout`` seconds for the loops to return; the names still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = dict(self._threads)
        for thread in threads.values():
            while thread.is_alive() and self._signals < 2:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                thread.join(_POLL_SECONDS if left is None else min(_POLL_SECONDS, left))
        return sorted(name for name, thread in threads.items() if thread.is_alive())

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (or :meth:`stop`); 0 when every loop stopped cleanly.

        Signal handlers are installed only from the main thread; elsewhere
        (tests) :meth:`stop` ends the run.
        """
        restore = self._install_signal_handlers()
        try:
            self.start()
            while not self.stop_event.is_set():
                if self._signals:
                    self.stop()
                    break
                # A plain sleep: a signal handler must not touch the locks an Event.wait holds.
                time.sleep(_POLL_SECONDS)
            log.info("runner_stopping", grace=self.grace)
            still_running = self.join(self.grace)
        finally:
            restore()
        if still_running:
            log.error("loops_not_stopped", loops=still_running, grace=self.grace)
        self._run_hooks()
        clean = not still_running and not self._died
        log.info("runner_stopped", clean=clean)
        return 0 if clean else 1

    # ------------------------------------------------------------- internals

    def _start_thread(self, name: str, loop: Loop) -> None:
        thread = threading.Thread(target=self._supervise, args=(name, loop),
                                  name=f"loop-{name}", daemon=True)
        self._threads[name] = thread
        thread.start()

    def _supervise(self, name: str, loop: Loop) -> None:
        failures = 0
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                loop(self.stop_event)
            except Exception as error:
                ran = time.monotonic() - started
                if self.stop_event.is_set():
                    log.exception("loop_failed_while_stopping", loop=name)
                    return
                problem = f"{type(error).__name__}: {error}"
                log.exception("loop_failed", loop=name)
            except BaseException:
                log.critical("loop_died", loop=name, exc_info=True)
                self._died.append(name)
                self.stop()
                return
            else:
                ran = time.monotonic() - started
                if self.stop_event.is_set():
                    return
                problem = "returned before being asked to stop"
            if ran >= self.backoff.maximum:
                failures = 0
            failures += 1
            delay = self.backoff.delay(failures)
            self._restarts[name] += 1
            if self._metrics is not None:
                self._metrics.loop_restarted(name)
            log.warning("loop_restarting", loop=name, in_seconds=delay, failures=failures,
                        why=problem)
            self.stop_event.wait(delay)

    def _run_hooks(self) -> None:
        for hook in self._hooks:
            try:
                hook()
            except Exception:
                log.exception("shutdown_hook_failed", hook=getattr(hook, "__qualname__", "?"))

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}

        def on_signal(number: int, _frame: FrameType | None) -> None:
            # Only a counter: the main thread acts on it outside the handler.
            self._signals += 1

        for number in STOP_SIGNALS:
            signal.signal(number, on_signal)

        def restore() -> None:
            for number, handler in previous.items():
                signal.signal(number, handler)

        return restore
