"""Message protection end to end: the engine and the portal simulator, each with its own keys.

- A round trip through the broker (RabbitMQ over AMQP 1.0 with PostgreSQL, and
  the embedded backend): a citizen's message reaches the EPJ, its AppRec and a
  staff answer reach the portal, all signed and encrypted on the wire.
- Every certificate failure produces the error report with its
  errorCondition on the sender's ``_error`` queue, and the message is parked
  as a dead letter, not processed; so is a tampered or unprotected message.
- Rollover: a message encrypted for the engine's previous certificate is read.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digidialog.helsenorge import Function, PortalMessage, encode
from digidialog.protection.transport import SIGNED_AND_ENVELOPED
from digidialog.testing.portal import build
from digidialog.transport import Envelope, async_queue, error_queue
from tests.engine.conftest import BACKENDS
from tests.engine.world import eventually
from tests.protection.engine_world import ProtectedWorld, Sender, protected_world
from tests.protection.pki import Pki

SECONDS = 20.0


def question(protected: ProtectedWorld, citizen: str) -> PortalMessage:
    """A citizen's message from the world's portal to its service."""
    world = protected.world
    return build.citizen_message(
        world.portal.portal, build.municipal_party(world.municipality, world.service, {}),
        citizen, datetime.now(UTC), subject="Spørsmål", body="Når kommer dere?")


def delivered(world: ProtectedWorld, msg_id: str) -> bool:
    """Whether the EPJ holds the message ``msg_id``."""
    return any(m["message_id"] == msg_id for m in world.world.harness.delivered_messages())


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_protected_round_trip_through_the_broker(backend: str, tmp_path: Path,
                                                   pki: Pki) -> None:
    """Citizen message in, AppRec and staff answer out, the answer's AppRec back in: every
    one CMS on the wire, every one read by the other side."""
    with protected_world(backend, tmp_path, pki) as protected:
        world = protected.world
        citizen = world.citizens[0]
        question = world.portal.send_citizen_message(world.municipality, world.service, citizen,
                                                     body="Kan dere komme før lunsj?")
        receipt = world.portal.wait_for_receipt(question.msg_id, timeout=SECONDS)
        assert receipt.message.receipt is not None
        assert receipt.message.receipt.status.value == "ok"
        assert receipt.envelope.content_type == SIGNED_AND_ENVELOPED
        eventually(lambda: delivered(protected, question.msg_id), SECONDS, "the question")
        world.harness.write_staff_message(citizen, "Vi kommer kl. 11.",
                                          thread_id=question.msg_id,
                                          in_reply_to=question.msg_id)
        answer = world.portal.wait_for(function=Function.SERVICE_REPLY, thread=question.msg_id,
                                       timeout=SECONDS)[0]
        assert answer.message.body == "Vi kommer kl. 11."
        assert answer.envelope.content_type == SIGNED_AND_ENVELOPED
        eventually(lambda: not world.store.receipts.pending(world.municipality), SECONDS,
                   "the portal's AppRec for the answer, verified and resolved")
        world.portal.assert_no_violations()
        assert world.store.dead_letters.list(world.municipality) == []


SENDERS = {
    # name: (the bad certificate of the session's PKI, the errorCondition it is reported with)
    "expired": ("expired", "transport:expired-certificate"),
    "not-yet-valid": ("not_yet_valid", "transport:expired-certificate"),
    "wrong-key-usage": ("authentication", "transport:invalid-certificate"),
    "unknown-issuer": ("unknown_issuer", "transport:unverified-certificate"),
    "revoked": ("revoked", "transport:revoked-certificate"),
    "another-signer": ("", "transport:invalid-certificate"),
    "no-party-file": ("", "transport:invalid-certificate"),
}
RAW = {"tampered": "transport:invalid-certificate", "unprotected": "transport:invalid-field-value"}


def sender_of(pki: Pki, name: str) -> Sender:
    """The sender of a failure: it signs with the bad certificate, which its party file lists;
    another signer signs with the portal's certificate while its file lists another party's;
    the sender without a party file signs well, but nobody knows its certificate."""
    if name == "another-signer":
        return Sender(pki.portal.signing, pki.other.signing)
    if name == "no-party-file":
        return Sender(pki.portal.signing, None)
    bad = getattr(pki, SENDERS[name][0])
    return Sender(bad, bad)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_protection_failure_is_reported_to_its_sender_and_parked(
        backend: str, tmp_path: Path, pki: Pki) -> None:
    """One message per failure, each from a sender of its own: each sender's ``_error``
    queue gets one report with the right errorCondition and the message's AMQP id; each
    message is a dead letter with the condition as its reason; none reaches the EPJ; and a
    good message sent after them all still goes through."""
    senders = {name: sender_of(pki, name) for name in SENDERS}
    senders.update({name: Sender(pki.portal.signing, pki.portal.signing) for name in RAW})
    with protected_world(backend, tmp_path, pki, senders=senders) as protected:
        world = protected.world
        citizen = world.citizens[0]
        sent: dict[str, tuple[str, str]] = {}
        for name in SENDERS:
            her_id = protected.senders[name]
            message = question(protected, citizen)
            one = world.portal.send_message(message, from_her_id=her_id)
            sent[name] = (one.envelope.message_id, message.msg_id)
        for name in RAW:
            her_id = protected.senders[name]
            message = question(protected, citizen)
            body = encode(message)
            if name == "tampered":
                cms = bytearray(protected.portal_protection.protect(
                    body, sender=her_id, receiver=world.municipality))
                cms[-3] ^= 0x08
                body = bytes(cms)
            envelope = Envelope(body=body, subject=message.process, from_her_id=her_id,
                                to_her_id=world.municipality)
            protected.bare.send(async_queue(world.municipality), envelope)
            sent[name] = (envelope.message_id, message.msg_id)

        expected = {name: condition for name, (_, condition) in SENDERS.items()} | RAW
        for name, condition in expected.items():
            report = eventually(lambda name=name: protected.bare.receive(
                error_queue(protected.senders[name]), 0.2), SECONDS, f"{name}'s error report")
            report.accept()
            properties = report.envelope.properties
            assert properties["errorCondition"] == condition, name
            assert properties["originalMessageId"] == sent[name][0], name
            assert properties["errorDescription"], name
            assert report.envelope.body == b""
        parked = eventually(lambda: len(world.store.dead_letters.list(world.municipality))
                            >= len(expected) and world.store.dead_letters.list(
                                world.municipality), SECONDS, "every message parked")
        assert sorted(letter.reason.partition(": ")[0] for letter in parked) == sorted(
            expected.values())
        assert {letter.source for letter in parked} == {"inbox"}

        good = world.portal.send_citizen_message(world.municipality, world.service, citizen)
        world.portal.wait_for_receipt(good.msg_id, timeout=SECONDS)
        eventually(lambda: delivered(protected, good.msg_id), SECONDS, "the good message")
        time.sleep(0.5)  # anything wrongly processed would have reached the EPJ by now
        assert not any(delivered(protected, msg_id) for _, msg_id in sent.values())
        world.portal.assert_no_violations()


def test_rollover_a_message_for_the_previous_certificate_is_read(tmp_path: Path,
                                                                  pki: Pki) -> None:
    """The portal's agreement still names the engine's old encryption certificate; the
    engine, holding the previous key, reads the message and answers it."""
    with protected_world("embedded", tmp_path, pki, engine_previous=pki.previous_encryption,
                         portal_encrypts_for=pki.previous_encryption) as protected:
        world = protected.world
        sent = world.portal.send_citizen_message(world.municipality, world.service,
                                                 world.citizens[0])
        receipt = world.portal.wait_for_receipt(sent.msg_id, timeout=SECONDS)
        assert receipt.message.receipt is not None
        assert receipt.message.receipt.status.value == "ok"
        eventually(lambda: delivered(protected, sent.msg_id), SECONDS, "the message")
        world.portal.assert_no_violations()
