"""How the simulated portal answers a message that asks for an AppRec.

By default with an OK receipt. A test can make it reject a citizen's messages
(``E35``: not digitally active, as Helsenorge does for someone without consent),
reject particular messages with any 8221 code, or withhold the receipt to see
what the engine does when none comes. The newest matching rule wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from digidialog.domain.receipts import NOT_DIGITALLY_ACTIVE
from digidialog.helsenorge.message import PortalMessage

MessageTest = Callable[[PortalMessage], bool]


@dataclass(frozen=True)
class Answer:
    """What to answer: OK (``error`` is ``None``), rejected with ``error``, or nothing."""

    error: str | None = None
    text: str | None = None
    withhold: bool = False


OK = Answer()


@dataclass
class _Rule:
    applies: MessageTest
    answer: Answer
    times: int | None  # how many more messages it answers; None: all of them


class ReceiptPolicy:
    """The rules for answering; safe to change while the simulator receives."""

    def __init__(self) -> None:
        """Answer everything OK until told otherwise."""
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._citizens: dict[str, Answer] = {}

    def reject_citizen(self, citizen_id: str, code: str = NOT_DIGITALLY_ACTIVE, *,
                       text: str | None = None) -> None:
        """Reject every message about this citizen with ``code`` (``E35`` by default)."""
        with self._lock:
            self._citizens[citizen_id] = Answer(error=code, text=text)

    def accept_citizen(self, citizen_id: str) -> None:
        """Answer this citizen's messages OK again (they became digitally active)."""
        with self._lock:
            self._citizens.pop(citizen_id, None)

    def reject_when(self, applies: MessageTest, code: str, *, text: str | None = None,
                    times: int | None = None) -> None:
        """Reject messages ``applies`` accepts with ``code``; only the next ``times`` if given."""
        self._add(_Rule(applies, Answer(error=code, text=text), times))

    def reject_message(self, msg_id: str, code: str, *, text: str | None = None) -> None:
        """Reject the message with this MsgId (each time it arrives) with ``code``."""
        self.reject_when(lambda m: m.msg_id == msg_id, code, text=text)

    def withhold_when(self, applies: MessageTest, *, times: int | None = None) -> None:
        """Send no AppRec at all for messages ``applies`` accepts."""
        self._add(_Rule(applies, Answer(withhold=True), times))

    def accept_when(self, applies: MessageTest, *, times: int | None = None) -> None:
        """Answer OK for messages ``applies`` accepts, whatever older rules say."""
        self._add(_Rule(applies, OK, times))

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def decide(self, message: PortalMessage) -> Answer:
        """The answer to ``message``, using up one turn of a counted rule."""
        with self._lock:
            for rule in reversed(self._rules):
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.applies(message):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule.answer
            patient = message.patient
            if patient is not None and patient.id in self._citizens:
                return self._citizens[patient.id]
            return OK
