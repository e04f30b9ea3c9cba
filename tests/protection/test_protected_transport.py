"""ProtectedTransport over the in-memory broker: protected on the wire, marked when it fails.

The portal and the municipality each hold their own keys and know the other
from party files. What travels is CMS (the MsgHead text is nowhere in it);
what arrives is the MsgHead. A message that fails is handed on with its raw
body and the marker properties, never raised and never lost.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from digidialog.protection import PROTECTION_ERROR, PROTECTION_ERROR_DESCRIPTION
from digidialog.protection.errors import CertificateExpired, UnknownParty
from digidialog.protection.protector import CmsProtection
from digidialog.protection.transport import (
    MAX_PROTECTED_BYTES,
    SIGNED_AND_ENVELOPED,
    ProtectedTransport,
)
from digidialog.testing.certificates import Issued, write_party
from digidialog.transport.base import Envelope, request
from digidialog.transport.memory import MemoryBroker
from tests.protection.pki import MUNICIPALITY, PORTAL, SERVICE, Pki, TwoSides, protection

MSGHEAD = "<MsgHead><Tekst>Når kommer dere?</Tekst></MsgHead>".encode()


def envelope(body: bytes = MSGHEAD, *, sender: str = PORTAL, receiver: str = MUNICIPALITY,
             **fields: object) -> Envelope:
    """An envelope from ``sender`` to ``receiver``."""
    return Envelope(body=body, from_her_id=sender, to_her_id=receiver, subject="TEST",
                    **fields)  # type: ignore[arg-type]


@pytest.fixture
def broker() -> MemoryBroker:
    """The queues both sides share."""
    return MemoryBroker()


def connect(broker: MemoryBroker, protection: CmsProtection) -> ProtectedTransport:
    """A protected client of ``broker``."""
    return ProtectedTransport(broker.connect(), protection)


def test_what_travels_is_cms_and_what_arrives_is_the_msghead(broker: MemoryBroker,
                                                              sides: TwoSides) -> None:
    """Both ways: the wire carries signed-and-enveloped data, the receiver gets the bytes."""
    portal = connect(broker, sides.portal)
    municipality = connect(broker, sides.municipality)
    portal.send("1000001_async", envelope())
    on_wire = broker.connect().receive("1000001_async", 1)
    assert on_wire is not None
    assert on_wire.envelope.content_type == SIGNED_AND_ENVELOPED
    assert "Når kommer".encode() not in on_wire.envelope.body
    on_wire.release()
    arrived = municipality.receive("1000001_async", 1)
    assert arrived is not None and arrived.envelope.body == MSGHEAD
    assert PROTECTION_ERROR not in arrived.envelope.properties
    arrived.accept()
    municipality.send("100000_async", envelope(b"<AppRec/>", sender=SERVICE, receiver=PORTAL))
    answer = portal.receive("100000_async", 1)
    assert answer is not None and answer.envelope.body == b"<AppRec/>"


def test_a_synchronous_request_and_its_reply_are_protected(broker: MemoryBroker,
                                                           sides: TwoSides) -> None:
    """HentPlanlagteTimer on ``_sync`` and its answer on ``_syncreply``, both protected."""
    portal = connect(broker, sides.portal)
    municipality = connect(broker, sides.municipality)

    def answer() -> None:
        asked = municipality.receive("1000001_sync", 5)
        assert asked is not None and asked.envelope.body == b"<Hent/>"
        municipality.send(asked.envelope.reply_to or "", envelope(
            b"<Svar/>", sender=MUNICIPALITY, receiver=PORTAL,
            correlation_id=asked.envelope.correlation_id))
        asked.accept()

    answering = threading.Thread(target=answer)
    answering.start()
    reply = request(portal, "1000001_sync", envelope(b"<Hent/>"),
                    reply_queue="100000_syncreply", timeout=5)
    answering.join()
    assert reply is not None and reply.body == b"<Svar/>"
    assert reply.content_type == SIGNED_AND_ENVELOPED


def test_error_reports_pass_as_they_are(broker: MemoryBroker, sides: TwoSides) -> None:
    """``_error`` queues: no body to protect, and nobody decrypts there."""
    municipality = connect(broker, sides.municipality)
    report = envelope(b"", sender=MUNICIPALITY, receiver=PORTAL, properties=MappingProxyType(
        {"errorCondition": "transport:not-well-formed-xml"}))
    municipality.send("100000_error", report)
    arrived = connect(broker, sides.portal).receive("100000_error", 1)
    assert arrived is not None
    assert arrived.envelope.body == b""
    assert arrived.envelope.properties["errorCondition"] == "transport:not-well-formed-xml"


def test_markers_from_the_wire_are_removed(broker: MemoryBroker, sides: TwoSides) -> None:
    """Only the wrapper may mark: a sender's own protectionError properties are dropped."""
    forged = envelope(properties=MappingProxyType({
        PROTECTION_ERROR: "transport:invalid-certificate", "X-Other": "kept"}))
    connect(broker, sides.portal).send("1000001_async", forged)
    arrived = connect(broker, sides.municipality).receive("1000001_async", 1)
    assert arrived is not None and arrived.envelope.body == MSGHEAD
    assert dict(arrived.envelope.properties) == {"X-Other": "kept"}


SCENARIOS = {
    # name: (the sender's signing certificate attribute, the party file's, the condition)
    "expired": ("expired", "expired", "transport:expired-certificate"),
    "not-yet-valid": ("not_yet_valid", "not_yet_valid", "transport:expired-certificate"),
    "wrong-key-usage": ("authentication", "authentication", "transport:invalid-certificate"),
    "unknown-issuer": ("unknown_issuer", "unknown_issuer", "transport:unverified-certificate"),
    "revoked": ("revoked", "revoked", "transport:revoked-certificate"),
    "signed-by-another-party": ("portal", "other", "transport:invalid-certificate"),
}


def _signing(pki: Pki, name: str) -> Issued:
    return {"portal": pki.portal.signing, "other": pki.other.signing}.get(name) or getattr(
        pki, name)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_certificate_failure_is_marked_with_its_condition(
        broker: MemoryBroker, sides: TwoSides, pki: Pki, scenario: str) -> None:
    """The sender signs with a bad certificate (the one its party file names, or another):
    the delivery arrives raw and marked with the errorCondition, unsettled until accepted."""
    signer, listed, condition = SCENARIOS[scenario]
    write_party(sides.municipality_parties, "100099", signing=_signing(pki, listed).certificate,
                encryption=pki.other.encryption.certificate)
    bad = protection(pki, _signing(pki, signer), pki.other.encryption, sides.portal_parties)
    connect(broker, bad).send("1000001_async", envelope(sender="100099"))
    arrived = connect(broker, sides.municipality).receive("1000001_async", 1)
    assert arrived is not None
    assert arrived.envelope.properties[PROTECTION_ERROR] == condition
    assert arrived.envelope.properties[PROTECTION_ERROR_DESCRIPTION]
    assert arrived.envelope.content_type == SIGNED_AND_ENVELOPED  # as it came
    assert MSGHEAD not in arrived.envelope.body
    arrived.release()
    assert broker.depth("1000001_async") == 1  # not lost


@pytest.mark.parametrize(("change", "condition"), [
    ("flip-a-ciphertext-byte", "transport:invalid-certificate"),
    ("unprotected", "transport:invalid-field-value"),
    ("unknown-party", "transport:invalid-certificate"),
])
def test_a_changed_or_unprotected_message_is_marked(broker: MemoryBroker, sides: TwoSides,
                                                    change: str, condition: str) -> None:
    """Tampered on the way, sent in the clear, or from a party with no certificate file."""
    raw = broker.connect()
    if change == "unprotected":
        raw.send("1000001_async", envelope())
    else:
        protected = sides.portal.protect(MSGHEAD, sender=PORTAL, receiver=MUNICIPALITY)
        if change == "flip-a-ciphertext-byte":
            body = bytearray(protected)
            body[-5] ^= 0x10
            raw.send("1000001_async", envelope(bytes(body)))
        else:
            raw.send("1000001_async", envelope(protected, sender="100077"))
    arrived = connect(broker, sides.municipality).receive("1000001_async", 1)
    assert arrived is not None
    assert arrived.envelope.properties[PROTECTION_ERROR] == condition


def test_rollover_reads_a_message_encrypted_for_the_previous_certificate(
        broker: MemoryBroker, pki: Pki, tmp_path: Path) -> None:
    """The portal still encrypts for our old certificate: read with the previous key, and
    refused once the previous key is no longer configured."""
    old_listing = tmp_path / "portal-knows-the-old-certificate"
    write_party(old_listing, MUNICIPALITY, signing=pki.municipality.signing.certificate,
                encryption=pki.previous_encryption.certificate)
    portal = protection(pki, pki.portal.signing, pki.portal.encryption, old_listing)
    ours = tmp_path / "parties"
    write_party(ours, PORTAL, pki.portal)
    during = protection(pki, pki.municipality.signing, pki.municipality.encryption, ours,
                        previous=pki.previous_encryption)
    after = protection(pki, pki.municipality.signing, pki.municipality.encryption, ours)
    connect(broker, portal).send("1000001_async", envelope())
    connect(broker, portal).send("1000001_async", envelope())
    read = connect(broker, during).receive("1000001_async", 1)
    assert read is not None and read.envelope.body == MSGHEAD
    refused = connect(broker, after).receive("1000001_async", 1)
    assert refused is not None
    assert "none of our certificates" in refused.envelope.properties[
        PROTECTION_ERROR_DESCRIPTION]


def test_an_oversized_body_is_passed_on_unopened(broker: MemoryBroker,
                                                 sides: TwoSides) -> None:
    """Too large to be a message we read: not decrypted, left for the receiver to refuse."""
    huge = b"\x30" * (MAX_PROTECTED_BYTES + 1)
    broker.connect().send("1000001_async", envelope(huge))
    arrived = connect(broker, sides.municipality).receive("1000001_async", 1)
    assert arrived is not None
    assert arrived.envelope.body == huge
    assert PROTECTION_ERROR not in arrived.envelope.properties


def test_a_bug_while_unprotecting_marks_instead_of_blocking(
        broker: MemoryBroker, sides: TwoSides, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception is our fault: marked transport:internal-error, not raised (a
    message that raised on every delivery would block its queue)."""
    def broken(*_: object, **__: object) -> bytes:
        raise TypeError("a bug")

    monkeypatch.setattr(sides.municipality, "unprotect", broken)
    connect(broker, sides.portal).send("1000001_async", envelope())
    arrived = connect(broker, sides.municipality).receive("1000001_async", 1)
    assert arrived is not None
    assert arrived.envelope.properties[PROTECTION_ERROR] == "transport:internal-error"


def test_sending_to_a_party_without_good_certificates_fails(broker: MemoryBroker,
                                                             sides: TwoSides,
                                                             pki: Pki) -> None:
    """No file for the receiver, or an expired encryption certificate in it: the send fails
    (a FatalError: the outbox parks the job with the reason), nothing reaches the queue."""
    municipality = connect(broker, sides.municipality)
    with pytest.raises(UnknownParty):
        municipality.send("100001_async", envelope(sender=MUNICIPALITY, receiver="100001"))
    write_party(sides.municipality_parties, "100002", signing=pki.portal.signing.certificate,
                encryption=pki.expired.certificate)
    with pytest.raises(CertificateExpired):
        municipality.send("100002_async", replace(envelope(), to_her_id="100002"))
    assert broker.depth("100001_async") == broker.depth("100002_async") == 0
