"""One attempt at one job, and what follows from how it ended.

The log names the kind of error; its text, which may quote the EPJ, is masked
there and kept in the store (``digidialog deadletter`` shows it).

Shared by the inbox and the outbox: success is the job's own business (it
marks itself done in its transaction); a retriable failure puts the job back
with a delay; a final failure, or too many retriable ones, parks it as a dead
letter with the reason. An unexpected exception is a bug: it is parked too,
never allowed to stop the loop or the jobs behind it.
"""

from __future__ import annotations

from collections.abc import Callable

from digidialog.errors import FatalError, RetriableError
from digidialog.log import get_logger
from digidialog.store import WorkItem, WorkQueue
from digidialog.sync.retry import RetryPolicy

log = get_logger("sync.attempt")


def attempt(queue: WorkQueue, item: WorkItem, owner: str, policy: RetryPolicy,
            work: Callable[[WorkItem], None], *, lease_seconds: float | None = None) -> bool:
    """Run ``work(item)``; ``True`` when it succeeded.

    With ``lease_seconds`` the lease is checked first, and renewed when it runs low: a
    job claimed in a batch waits for the jobs before it, and if its lease ran out
    meanwhile another daemon may have taken it, so it is left to that one (``False``)
    rather than done twice.
    """
    if lease_seconds is not None and not queue.hold(item, owner, lease_seconds=lease_seconds):
        log.info("job taken over by another worker", job=item.id, kind=item.kind)
        return False
    try:
        work(item)
    except RetriableError as error:
        attempts = item.attempts + 1
        if policy.gives_up(attempts, error):
            queue.park(item.id, owner, reason=f"gave up after {attempts} attempts: {error}")
            log.warning("job parked", job=item.id, kind=item.kind, attempts=attempts,
                        error=type(error).__name__, reason=str(error))
        else:
            delay = policy.delay(attempts, error)
            queue.retry_later(item.id, owner, error=str(error), delay=delay)
            log.info("job retried later", job=item.id, kind=item.kind, attempts=attempts,
                     delay=round(delay, 2), error=type(error).__name__, reason=str(error))
        return False
    except FatalError as error:
        queue.park(item.id, owner, reason=str(error))
        log.warning("job parked", job=item.id, kind=item.kind, error=type(error).__name__,
                    reason=str(error))
        return False
    except Exception as error:  # a bug must not stop the jobs behind this one
        queue.park(item.id, owner, reason=f"unexpected {type(error).__name__}: {error}")
        log.exception("job failed unexpectedly", job=item.id, kind=item.kind)
        return False
    return True
