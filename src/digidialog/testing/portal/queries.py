"""What a test asks the portal simulator: what arrived, what was wrong, and waiting for it.

Failures name messages by function, code, MsgId, thread and HER-id only: the
people and texts are synthetic, but a test report is no place for them either.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from digidialog.domain import OverviewEntry
from digidialog.helsenorge.message import Function

from .receiver import Receiver
from .records import ErrorReport, Ledger, Received, Sent, ThreadView, Violation

WAIT_SECONDS = 5.0
"""How long :meth:`Queries.wait_for` waits by default."""

_SHOWN = 30  # arrivals listed in a failed wait; the newest are the telling ones


class Queries:
    """The query side of :class:`~digidialog.testing.portal.PortalSimulator`."""

    _ledger: Ledger
    _receiver: Receiver

    def sent(self) -> list[Sent]:
        """Everything the simulator sent (its AppRecs included), in order."""
        return self._ledger.sent()

    def received(
        self, function: Function | str | None = None, *, citizen: str | None = None,
        thread: str | None = None, municipality: str | None = None, code: str | None = None,
    ) -> list[Received]:
        """Decoded messages that reached the portal, in order, filtered by what is given.

        ``citizen`` is the patient's national id, ``thread`` the root MsgId,
        ``municipality`` the sender's level-1 HER-id.
        """
        return self._ledger.received(_matcher(function, citizen, thread, municipality, code))

    def overviews(self, citizen: str | None = None) -> list[Received]:
        """The TjenesteOversikt messages that reached the portal (about ``citizen``), in order."""
        return self.received(Function.SERVICE_OVERVIEW, citizen=citizen)

    def latest_overview(self, citizen: str) -> tuple[OverviewEntry, ...] | None:
        """The services the portal last heard the citizen has; ``None`` if it heard nothing."""
        found = self.overviews(citizen)
        return found[-1].message.services if found else None

    def status_questions(self) -> list[Received]:
        """The SIDAB questions that reached the portal, in order."""
        return self.received(Function.DIGITAL_STATUS_QUERY)

    def receipts_for(self, msg_id: str) -> list[Received]:
        """The AppRecs the engine sent about the simulator's message ``msg_id``."""
        return self._ledger.received(
            lambda r: r.message.receipt is not None and r.message.receipt.original_msg_id == msg_id)

    def errors(self) -> list[ErrorReport]:
        """Reports from the portal's ``_error`` queue, in order."""
        return self._ledger.errors()

    def violations(self) -> list[Violation]:
        """Every rule the engine's messages broke, in the order found."""
        return self._ledger.violations()

    def threads(self) -> dict[str, ThreadView]:
        """Every thread the portal took part in, by root MsgId, messages in order."""
        return self._ledger.threads()

    def assert_no_violations(self) -> None:
        """Fail, listing them, when any message broke a rule."""
        found = self.violations()
        if found:
            raise AssertionError(
                f"{len(found)} protocol violation(s):\n" + "\n".join(f"  - {v}" for v in found))

    def wait_for(
        self, predicate: Callable[[Received], bool] | None = None, timeout: float = WAIT_SECONDS,
        *, count: int = 1, what: str | None = None, function: Function | str | None = None,
        citizen: str | None = None, thread: str | None = None, municipality: str | None = None,
        code: str | None = None,
    ) -> list[Received]:
        """Wait until ``count`` received messages match; return all that match.

        Matching means passing the filters (as :meth:`received`) and
        ``predicate``. Pumps the queues itself when no background thread runs.
        Raises AssertionError after ``timeout`` seconds, listing what did arrive.
        """
        matches = _matcher(function, citizen, thread, municipality, code)

        def keep(r: Received) -> bool:
            return matches(r) and (predicate is None or predicate(r))

        found: list[Received] = []

        def enough() -> bool:
            nonlocal found
            found = self._ledger.received(keep)
            return len(found) >= count

        wanted = what or _describe(count, function, code, thread, citizen is not None)
        self._wait_until(enough, timeout, wanted)
        return found

    def wait_for_receipt(self, msg_id: str, timeout: float = WAIT_SECONDS) -> Received:
        """Wait for the engine's AppRec about ``msg_id`` and return it."""
        self._wait_until(lambda: bool(self.receipts_for(msg_id)), timeout,
                         f"an AppRec about {msg_id}")
        return self.receipts_for(msg_id)[0]

    def wait_for_errors(self, count: int = 1, timeout: float = WAIT_SECONDS) -> list[ErrorReport]:
        """Wait until ``count`` error-queue reports arrived and return them all."""
        self._wait_until(lambda: len(self.errors()) >= count, timeout,
                         f"{count} error-queue report(s)")
        return self.errors()

    def _wait_until(self, condition: Callable[[], bool], timeout: float, wanted: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(self._nothing_came(timeout, wanted))
            if self._receiver.running:
                time.sleep(min(0.02, left))
            else:
                self._receiver.pump(min(0.1, left))

    def _nothing_came(self, timeout: float, wanted: str) -> str:
        arrived = self._ledger.received()
        lines = [f"waited {timeout:g} s for {wanted}; {len(arrived)} message(s) arrived"
                 + (":" if arrived else ".")]
        if len(arrived) > _SHOWN:
            lines.append(f"  ... {len(arrived) - _SHOWN} earlier ones left out")
        lines += [f"  - {r.summary()}" for r in arrived[-_SHOWN:]]
        violations, errors = self.violations(), self.errors()
        if violations:
            lines.append(f"{len(violations)} violation(s):")
            lines += [f"  - {v}" for v in violations[-_SHOWN:]]
        if errors:
            lines.append(f"{len(errors)} error-queue report(s):")
            lines += [f"  - {e.condition}: {e.description}" for e in errors[-_SHOWN:]]
        return "\n".join(lines)


def _matcher(
    function: Function | str | None, citizen: str | None, thread: str | None,
    municipality: str | None, code: str | None,
) -> Callable[[Received], bool]:
    wanted_function = None if function is None else Function(function)

    def matches(r: Received) -> bool:
        message = r.message
        return ((wanted_function is None or message.function is wanted_function)
                and (citizen is None or r.citizen_id == citizen)
                and (thread is None or r.thread == thread)
                and (municipality is None or message.sender.her_ids[0] == municipality)
                and (code is None or message.code == code))

    return matches


def _describe(count: int, function: Function | str | None, code: str | None,
              thread: str | None, by_citizen: bool) -> str:
    what = Function(function).value if function is not None else "message"
    parts = [f"{count} {what}" + (f" with code {code}" if code else "")]
    if thread:
        parts.append(f"in thread {thread}")
    if by_citizen:
        parts.append("about the given citizen")
    return " ".join(parts)
