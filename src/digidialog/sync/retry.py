"""How long to wait before trying a job again, and when to stop trying.

Exponential backoff with full jitter (tenacity's ``wait_random_exponential``),
honouring a ``Retry-After`` the other side gave. A vendor or message failure
counts towards :data:`MAX_ATTEMPTS`, after which the job is parked as a dead
letter; an outage of our own infrastructure (broker, database) never parks
anything: the work waits until it is back.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import RetryCallState, wait_random_exponential

from digidialog.errors import RetriableError, StoreUnavailable, TransportUnavailable


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff bounds and the number of attempts before a job is parked."""

    initial: float = 1.0
    maximum: float = 300.0
    infrastructure_maximum: float = 30.0
    max_attempts: int = 10

    def delay(self, attempts: int, error: RetriableError) -> float:
        """Seconds to wait after the ``attempts``-th failure with ``error``."""
        if error.retry_after is not None:
            return max(error.retry_after, 0.0)
        ceiling = self.infrastructure_maximum if is_infrastructure(error) else self.maximum
        wait = wait_random_exponential(multiplier=self.initial, max=ceiling)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = max(attempts, 1)
        return float(wait(state))

    def gives_up(self, attempts: int, error: RetriableError) -> bool:
        """Whether the job has failed often enough to be parked."""
        return not is_infrastructure(error) and attempts >= self.max_attempts


def is_infrastructure(error: Exception) -> bool:
    """Our own broker or database, not the job, is at fault."""
    return isinstance(error, TransportUnavailable | StoreUnavailable)
