"""Liveness and readiness: what ``/healthz`` and ``/readyz`` answer.

- Live: the process runs its loops. The runner tells (:meth:`Health.set_liveness`);
  until it does, the daemon is not live.
- Ready: live, and every registered check passes. A check is a quick callable
  that raises when its dependency is unreachable (``store.ping``, a broker
  probe); the exception's text is the reason ``/readyz`` shows. Checks run on
  every request and must answer within the prober's patience: give their
  clients timeouts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from digidialog.log import get_logger

log = get_logger("daemon.health")

ReadinessCheck = Callable[[], object]
"""Raises when not ready; whatever it returns otherwise is ignored."""


@dataclass(frozen=True)
class CheckResult:
    """One readiness check's outcome: ``reason`` is None when it passed."""

    name: str
    reason: str | None

    @property
    def passed(self) -> bool:
        """Whether the check passed."""
        return self.reason is None


class Health:
    """The liveness probe and the readiness checks of one daemon."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._liveness: Callable[[], bool] = lambda: False
        self._checks: dict[str, ReadinessCheck] = {}

    def set_liveness(self, probe: Callable[[], bool]) -> None:
        """Use ``probe`` to tell whether the loops run (the runner's ``alive``)."""
        with self._lock:
            self._liveness = probe

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        """Make readiness depend on ``check`` (replacing any check of the same name)."""
        with self._lock:
            self._checks[name] = check

    def remove_check(self, name: str) -> None:
        """Stop checking ``name``."""
        with self._lock:
            self._checks.pop(name, None)

    def live(self) -> bool:
        """Whether the process runs its loops; a failing probe counts as not live."""
        with self._lock:
            probe = self._liveness
        try:
            return bool(probe())
        except Exception:
            log.exception("liveness_probe_failed")
            return False

    def readiness(self) -> list[CheckResult]:
        """Every check's outcome, liveness first (a stopped daemon is not ready)."""
        with self._lock:
            checks = list(self._checks.items())
        results = [CheckResult("loops", None if self.live() else "the loops are not running")]
        for name, check in checks:
            try:
                check()
            except Exception as error:
                reason = str(error) or type(error).__name__
                results.append(CheckResult(name, reason))
            else:
                results.append(CheckResult(name, None))
        return results

    def ready(self) -> bool:
        """Whether every check passes."""
        return all(result.passed for result in self.readiness())
