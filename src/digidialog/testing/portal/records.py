"""What the portal simulator sent, received and found wrong, kept for tests to query.

The :class:`Ledger` is shared by the test's thread and the simulator's receiving
thread, so every access takes its lock and queries return copies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from digidialog.helsenorge.message import Function, PortalMessage
from digidialog.transport.base import Envelope

TO_MUNICIPALITY = "to_municipality"
TO_PORTAL = "to_portal"


def thread_of(message: PortalMessage) -> str:
    """The thread a message belongs to: its root MsgId (its own, when it starts one)."""
    return message.conversation.root if message.conversation else message.msg_id


@dataclass(frozen=True)
class Sent:
    """One envelope the simulator put on a queue, and the message in it (``None`` for raw bytes).

    ``raw_msg_id`` is the MsgId found in raw bytes, when there is one, so that
    the engine's AppRec about a hostile message is recognised as an answer.
    """

    message: PortalMessage | None
    envelope: Envelope
    queue: str
    raw_msg_id: str | None = None

    @property
    def msg_id(self) -> str | None:
        """The MsgId of what was sent: the message's, or the one found in raw bytes."""
        return self.message.msg_id if self.message else self.raw_msg_id


@dataclass(frozen=True)
class Received:
    """A message that reached the portal, decoded, with what carried it.

    ``answer`` is the AppRec the simulator sent back (``None`` when none was asked
    for or it was withheld); ``duplicate`` says the same MsgId arrived before.
    """

    message: PortalMessage
    envelope: Envelope
    queue: str
    at: datetime
    duplicate: bool = False
    answer: PortalMessage | None = None

    @property
    def msg_id(self) -> str:
        """The message's MsgId (an AppRec's own id for a receipt)."""
        return self.message.msg_id

    @property
    def function(self) -> Function:
        """What the message does."""
        return self.message.function

    @property
    def thread(self) -> str:
        """The root MsgId of the message's thread."""
        return thread_of(self.message)

    @property
    def citizen_id(self) -> str | None:
        """The national id of the citizen whose matter it is."""
        return self.message.patient.id if self.message.patient else None

    def summary(self) -> str:
        """One line naming the message without its content (no text, no national id)."""
        m = self.message
        refs = f" in thread {self.thread}" if m.conversation else ""
        about = f" about {m.receipt.original_msg_id}" if m.receipt else ""
        return (f"{m.function.value} ({m.process} {m.code}) {m.msg_id}{refs}{about} "
                f"from {self.envelope.from_her_id} on {self.queue}")


@dataclass(frozen=True)
class Violation:
    """Something the engine sent that breaks the protocol; ``rule`` names which rule."""

    rule: str
    detail: str
    queue: str
    envelope: Envelope
    msg_id: str | None = None

    def __str__(self) -> str:
        where = f" (MsgId {self.msg_id})" if self.msg_id else ""
        return f"{self.rule}: {self.detail}{where} on {self.queue}"


@dataclass(frozen=True)
class ErrorReport:
    """A report on the portal's ``_error`` queue about something the simulator sent."""

    condition: str | None
    description: str | None
    envelope: Envelope
    about: Sent | None


@dataclass(frozen=True)
class ThreadEntry:
    """One message of a thread, and which way it went."""

    direction: str
    message: PortalMessage


@dataclass(frozen=True)
class ThreadView:
    """A thread as the portal sees it: who it is with, about whom, and its messages in order."""

    root: str
    municipality: str | None
    service: str | None
    citizen_id: str | None
    entries: tuple[ThreadEntry, ...]


class Ledger:
    """Everything sent, received and reported, indexed for the checks and the queries."""

    def __init__(self) -> None:
        """An empty ledger."""
        self._lock = threading.Lock()
        self._sent: list[Sent] = []
        self._received: list[Received] = []
        self._violations: list[Violation] = []
        self._errors: list[ErrorReport] = []
        # Indexes, so that a long run (a benchmark) does not scan every list per message.
        self._sent_by_msg_id: dict[str, Sent] = {}
        self._sent_by_amqp_id: dict[str, Sent] = {}
        self._received_ids: set[str] = set()
        # Every message of either direction by MsgId, and each thread's messages in order.
        self._messages: dict[str, ThreadEntry] = {}
        self._threads: dict[str, list[ThreadEntry]] = {}

    def _index(self, entry: ThreadEntry) -> None:
        message = entry.message
        if message.msg_id in self._messages or message.function is Function.RECEIPT:
            return
        self._messages[message.msg_id] = entry
        self._threads.setdefault(thread_of(message), []).append(entry)

    def add_sent(self, sent: Sent) -> None:
        """Note an envelope about to be sent (before, so that a fast answer finds it)."""
        with self._lock:
            self._sent.append(sent)
            self._sent_by_amqp_id[sent.envelope.message_id] = sent
            if sent.msg_id is not None:
                self._sent_by_msg_id[sent.msg_id] = sent
            if sent.message is not None:
                self._index(ThreadEntry(TO_MUNICIPALITY, sent.message))

    def forget_sent(self, sent: Sent) -> None:
        """Take back an envelope the transport refused to take."""
        with self._lock:
            self._sent.remove(sent)
            self._sent_by_amqp_id.pop(sent.envelope.message_id, None)
            if sent.msg_id is not None:
                self._sent_by_msg_id.pop(sent.msg_id, None)
            message = sent.message
            if message is not None and self._messages.get(message.msg_id) is not None:
                entry = self._messages.pop(message.msg_id)
                self._threads[thread_of(message)].remove(entry)

    def seen(self, msg_id: str) -> bool:
        """Whether a message with this MsgId was received before."""
        with self._lock:
            return msg_id in self._received_ids

    def add_received(self, received: Received) -> None:
        """Note a decoded message that arrived."""
        with self._lock:
            self._received.append(received)
            self._received_ids.add(received.msg_id)
            self._index(ThreadEntry(TO_PORTAL, received.message))

    def add_violation(self, violation: Violation) -> None:
        """Note a broken rule."""
        with self._lock:
            self._violations.append(violation)

    def add_error(self, report: ErrorReport) -> None:
        """Note an error-queue report."""
        with self._lock:
            self._errors.append(report)

    def entry(self, msg_id: str) -> ThreadEntry | None:
        """Any message sent or received with this MsgId (receipts aside), with its direction."""
        with self._lock:
            return self._messages.get(msg_id)

    def message(self, msg_id: str) -> PortalMessage | None:
        """Any message sent or received with this MsgId (receipts aside)."""
        entry = self.entry(msg_id)
        return entry.message if entry else None

    def sent_by_msg_id(self, msg_id: str) -> Sent | None:
        """What the simulator sent (receipts and raw bytes included) with this MsgId."""
        with self._lock:
            return self._sent_by_msg_id.get(msg_id)

    def sent_matching(self, amqp_message_id: str | None, body: bytes) -> Sent | None:
        """The envelope an error report is about: by AMQP message-id, else by identical body."""
        with self._lock:
            if amqp_message_id in self._sent_by_amqp_id:
                return self._sent_by_amqp_id[amqp_message_id]
            return next((s for s in self._sent if s.envelope.body == body), None)

    def sent(self) -> list[Sent]:
        """Everything sent, in order."""
        with self._lock:
            return list(self._sent)

    def received(self, keep: Callable[[Received], bool] = lambda _: True) -> list[Received]:
        """What arrived, in order, that ``keep`` accepts."""
        with self._lock:
            return [r for r in self._received if keep(r)]

    def violations(self) -> list[Violation]:
        """Every broken rule, in the order found."""
        with self._lock:
            return list(self._violations)

    def errors(self) -> list[ErrorReport]:
        """Every error-queue report, in order."""
        with self._lock:
            return list(self._errors)

    def threads(self) -> dict[str, ThreadView]:
        """Every thread by root MsgId."""
        with self._lock:
            return {root: _view(root, entries) for root, entries in self._threads.items()}


def _view(root: str, entries: list[ThreadEntry]) -> ThreadView:
    first = entries[0]
    # The municipality's side of the first message: its receiver when the portal wrote it.
    party = first.message.receiver if first.direction == TO_MUNICIPALITY else first.message.sender
    patient = first.message.patient
    return ThreadView(
        root=root,
        municipality=party.her_ids[0],
        service=party.her_ids[1] if len(party.her_ids) > 1 else None,
        citizen_id=patient.id if patient else None,
        entries=tuple(entries),
    )
