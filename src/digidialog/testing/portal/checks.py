"""The rules the simulator holds every message from the engine to.

Each check returns :class:`Finding` s instead of raising, so one run shows every
broken rule. Details name MsgIds, HER-ids and codes, never a person or text.
Decoding itself (well-formed, valid against the schemas, a served process
with what its profile requires) is the codec's job and happens before these.
"""

from __future__ import annotations

from dataclasses import dataclass

from digidialog.helsenorge.message import Function, PortalMessage
from digidialog.transport.base import APPREC_SUBJECT, Envelope

from .records import TO_MUNICIPALITY, Ledger, thread_of

ANSWERS = frozenset({
    Function.SERVICE_REPLY, Function.THREAD_CLOSED, Function.REFUSAL,
    Function.CANCELLATION_REPLY, Function.PLANNED_APPOINTMENTS_REPLY,
})
"""Functions that always answer a message, so they must carry a ConversationRef."""


@dataclass(frozen=True)
class Finding:
    """One broken rule: ``rule`` is a short stable name, ``detail`` says what was seen."""

    rule: str
    detail: str


def check_message(
    envelope: Envelope, message: PortalMessage, *, portal_her_id: str, ledger: Ledger,
    request: PortalMessage | None = None,
) -> list[Finding]:
    """Every rule for a decoded message; ``request`` is set for a synchronous answer."""
    findings = check_properties(envelope, message, portal_her_id)
    if message.warnings:
        findings.append(Finding(
            "quirks", f"written with {len(message.warnings)} quirk(s) digidialog must never "
            f"write, first: {message.warnings[0][:120]}"))
    if message.function is Function.RECEIPT:
        return findings + check_receipt(message, ledger)
    if request is None and not message.ack:
        findings.append(Finding("ack", "an asynchronous message that asks for no AppRec"))
    findings += check_conversation(message, ledger)
    if request is not None and message.conversation is not None \
            and message.conversation.parent != request.msg_id:
        findings.append(Finding(
            "conversation", f"synchronous answer names parent {message.conversation.parent}, "
            f"not the request {request.msg_id}"))
    return findings


def check_properties(envelope: Envelope, message: PortalMessage, portal_her_id: str
                     ) -> list[Finding]:
    """AMQP properties present, ``subject`` the process, HER-ids those of the MsgHead."""
    findings = []
    missing = [name for name, value in (
        ("subject", envelope.subject), ("fromHerId", envelope.from_her_id),
        ("toHerId", envelope.to_her_id), ("applicationTimeStamp", envelope.application_timestamp),
    ) if not value]
    if missing:
        findings.append(Finding("properties", f"missing AMQP properties: {', '.join(missing)}"))
    expected_subject = APPREC_SUBJECT if message.function is Function.RECEIPT else message.process
    if envelope.subject and envelope.subject != expected_subject:
        findings.append(Finding(
            "subject", f"AMQP subject {envelope.subject!r}, expected {expected_subject!r}"))
    sender, receiver = message.sender.her_ids, message.receiver.her_ids
    if envelope.from_her_id and envelope.from_her_id not in sender:
        findings.append(Finding(
            "her-ids", f"fromHerId {envelope.from_her_id} is not a HER-id of the sender "
            f"{_ids(sender)}"))
    if envelope.to_her_id and envelope.to_her_id not in receiver:
        findings.append(Finding(
            "her-ids", f"toHerId {envelope.to_her_id} is not a HER-id of the receiver "
            f"{_ids(receiver)}"))
    if envelope.to_her_id and envelope.to_her_id != portal_her_id:
        findings.append(Finding(
            "her-ids", f"toHerId {envelope.to_her_id} is not the portal's {portal_her_id}"))
    if portal_her_id not in receiver:
        findings.append(Finding(
            "her-ids", f"the MsgHead receiver {_ids(receiver)} is not the portal {portal_her_id}"))
    return findings


def check_conversation(message: PortalMessage, ledger: Ledger) -> list[Finding]:
    """An answer names its thread's first message and a parent in that thread."""
    conversation = message.conversation
    if conversation is None:
        if message.function in ANSWERS:
            return [Finding("conversation",
                            f"{message.function.value} answers nothing (no ConversationRef)")]
        return []
    findings = []
    root_entry = ledger.entry(conversation.root)
    root = root_entry.message if root_entry else None
    if root is None:
        findings.append(Finding(
            "conversation", f"RefToConversation {conversation.root} is no message the portal "
            "sent or received"))
    elif root.conversation is not None:
        findings.append(Finding(
            "conversation", f"RefToConversation {conversation.root} is not the first message "
            f"of its thread (that is {root.conversation.root})"))
    parent = ledger.message(conversation.parent)
    if parent is None:
        findings.append(Finding(
            "conversation", f"RefToParent {conversation.parent} is no message the portal sent "
            "or received"))
    elif thread_of(parent) != conversation.root:
        findings.append(Finding(
            "conversation", f"RefToParent {conversation.parent} belongs to thread "
            f"{thread_of(parent)}, not {conversation.root}"))
    if root_entry is not None and root is not None:
        if root.patient is not None and message.patient != root.patient:
            findings.append(Finding("conversation",
                                    "the answer is about another citizen than its thread"))
        # The municipality's side of the thread: the receiver of what the portal wrote.
        side = root.receiver if root_entry.direction == TO_MUNICIPALITY else root.sender
        if side.her_ids[0] != message.sender.her_ids[0]:
            findings.append(Finding(
                "conversation", f"the thread is with {side.her_ids[0]}, the answer comes from "
                f"{message.sender.her_ids[0]}"))
    return findings


def check_receipt(message: PortalMessage, ledger: Ledger) -> list[Finding]:
    """An AppRec is about a message the simulator sent, which asked for one."""
    receipt = message.receipt
    if receipt is None:  # decode gives every receipt its part; a hand-made one may lack it
        return [Finding("receipt", "an AppRec without its receipt part")]
    sent = ledger.sent_by_msg_id(receipt.original_msg_id)
    if sent is None:
        return [Finding("receipt",
                        f"AppRec for {receipt.original_msg_id}, which the portal never sent")]
    original = sent.message
    if original is None:  # raw bytes: nothing more is known of what was sent
        return []
    findings = []
    if original.function is Function.RECEIPT or not original.ack:
        findings.append(Finding(
            "receipt", f"AppRec for {original.msg_id}, which asked for none"))
    if receipt.original_process != original.process:
        findings.append(Finding(
            "receipt", f"AppRec names process {receipt.original_process!r} for a "
            f"{original.process} message"))
    return findings


def _ids(her_ids: tuple[str | None, ...]) -> str:
    return "/".join(h or "-" for h in her_ids)
