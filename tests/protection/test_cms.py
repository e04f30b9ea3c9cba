"""CMS SignedData and EnvelopedData: what is made is read back, and nothing else is.

Signing and enveloping are ``cryptography``'s; reading is asn1crypto's with
``cryptography``'s primitives. Every way a message can be wrong comes out as a
:class:`ProtectionError` with the condition that reports it, never as another
exception: tampered content or signature, a signer other than the expected one,
a message for someone else's key, a corrupt ciphertext, bytes that are not CMS.
"""

from __future__ import annotations

import random

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from digidialog.protection import errors
from digidialog.protection.enveloping import DecryptionKey, decrypt, encrypt
from digidialog.protection.errors import (
    NotProtected,
    ProtectionError,
    TamperedMessage,
    UndecryptableMessage,
    WrongSigner,
)
from digidialog.protection.signing import sign, verify
from digidialog.testing.certificates import PartyKeys
from tests.protection.pki import Pki

MSGHEAD = ("<?xml version='1.0' encoding='utf-8'?>\r\n<MsgHead>\n  <Tekst>Hei på deg\r\n"
           "</Tekst>\x00</MsgHead>").encode()


def keys_of(party: PartyKeys, label: str = "current") -> DecryptionKey:
    """The party's encryption certificate and key, as a decryption key."""
    return DecryptionKey(party.encryption.certificate, party.encryption.key, label)


def open_and_verify(pki: Pki, data: bytes) -> bytes:
    """Decrypt with the municipality's key, verify as signed by the portal."""
    opened, _ = decrypt(data, [keys_of(pki.municipality)])
    return verify(opened, pki.portal.signing.certificate)


def test_signed_content_comes_back_byte_for_byte(pki: Pki) -> None:
    """Line ends, a BOM-less declaration, a NUL: the content is signed as it is (Binary)."""
    signed = sign(MSGHEAD, pki.portal.signing.certificate, pki.portal.signing.key)
    assert verify(signed, pki.portal.signing.certificate) == MSGHEAD


def test_an_ec_signature_verifies(pki: Pki) -> None:
    """Signing keys may be EC (ECDSA); the expected certificate's key checks it."""
    ec_keys = PartyKeys.issued_by(pki.issuing, "EC part", signing_key_type="ec")
    signed = sign(MSGHEAD, ec_keys.signing.certificate, ec_keys.signing.key)
    assert verify(signed, ec_keys.signing.certificate) == MSGHEAD
    with pytest.raises(WrongSigner):
        verify(signed, pki.portal.signing.certificate)


def test_a_signature_by_another_certificate_is_refused(pki: Pki) -> None:
    """Signed correctly, but by a party other than the one expected: WrongSigner."""
    signed = sign(MSGHEAD, pki.other.signing.certificate, pki.other.signing.key)
    with pytest.raises(WrongSigner) as refused:
        verify(signed, pki.portal.signing.certificate)
    assert refused.value.condition == errors.INVALID_CERTIFICATE


def test_changed_content_is_refused_by_its_digest(pki: Pki) -> None:
    """One letter of the signed content changed in the DER: the digest no longer matches."""
    signed = sign(MSGHEAD, pki.portal.signing.certificate, pki.portal.signing.key)
    changed = signed.replace("på deg".encode(), "på meg".encode())
    assert changed != signed
    with pytest.raises(TamperedMessage, match="digest"):
        verify(changed, pki.portal.signing.certificate)


def test_a_changed_signature_is_refused(pki: Pki) -> None:
    """The signature's last byte flipped: it does not verify."""
    signed = bytearray(sign(MSGHEAD, pki.portal.signing.certificate, pki.portal.signing.key))
    signed[-1] ^= 0x01
    with pytest.raises(TamperedMessage, match="does not verify"):
        verify(bytes(signed), pki.portal.signing.certificate)


def test_changed_signed_attributes_are_refused(pki: Pki) -> None:
    """A signing time moved (the attributes are signed, not the content): no longer verifies."""
    signed = sign(MSGHEAD, pki.portal.signing.certificate, pki.portal.signing.key)
    info = cms.ContentInfo.load(signed)
    attributes = info["content"]["signer_infos"][0]["signed_attrs"]
    time_value = next(a for a in attributes if a["type"].native == "signing_time")["values"][0]
    original = time_value.dump()
    moved = original[:-3] + bytes([original[-3] ^ 0x01]) + original[-2:]  # a digit of the seconds
    with pytest.raises(TamperedMessage, match="does not verify"):
        verify(signed.replace(original, moved), pki.portal.signing.certificate)


def test_a_detached_signature_is_refused(pki: Pki) -> None:
    """No content inside the SignedData: nothing to hand on."""
    detached = pkcs7.PKCS7SignatureBuilder().set_data(MSGHEAD).add_signer(
        pki.portal.signing.certificate, pki.portal.signing.key, hashes.SHA256()).sign(
        serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                     pkcs7.PKCS7Options.Binary])
    with pytest.raises(TamperedMessage, match="missing"):
        verify(detached, pki.portal.signing.certificate)


def test_enveloped_content_comes_back_and_names_the_key(pki: Pki) -> None:
    """AES-256-CBC for the receiver's certificate; opened with the matching key."""
    enveloped = encrypt(MSGHEAD, pki.municipality.encryption.certificate)
    algorithm = cms.ContentInfo.load(enveloped)["content"]["encrypted_content_info"][
        "content_encryption_algorithm"]["algorithm"].native
    assert algorithm == "aes256_cbc"
    content, key = decrypt(enveloped, [keys_of(pki.municipality)])
    assert content == MSGHEAD
    assert key.label == "current"


def test_the_previous_key_opens_what_was_encrypted_for_it(pki: Pki) -> None:
    """Rollover: the current key is tried first, the previous one opens the old message."""
    previous = DecryptionKey(pki.previous_encryption.certificate, pki.previous_encryption.key,
                             "previous")
    old = encrypt(MSGHEAD, pki.previous_encryption.certificate)
    content, key = decrypt(old, [keys_of(pki.municipality), previous])
    assert (content, key.label) == (MSGHEAD, "previous")
    with pytest.raises(UndecryptableMessage, match="none of our certificates"):
        decrypt(old, [keys_of(pki.municipality)])


def test_a_message_for_someone_else_is_refused(pki: Pki) -> None:
    """Encrypted for another party's certificate: none of ours is a recipient."""
    theirs = encrypt(MSGHEAD, pki.other.encryption.certificate)
    with pytest.raises(UndecryptableMessage, match="none of our certificates") as refused:
        decrypt(theirs, [keys_of(pki.municipality)])
    assert refused.value.condition == errors.INVALID_CERTIFICATE


@pytest.mark.parametrize("where", ["ciphertext-end", "ciphertext-start", "encrypted-key"])
def test_a_corrupt_envelope_fails_alike_wherever_it_was_changed(pki: Pki, where: str) -> None:
    """A flipped bit in the content or in the wrapped key: the same refusal, the same words
    (what failed inside is not told, so error reports cannot serve as a padding oracle)."""
    signed = sign(MSGHEAD, pki.portal.signing.certificate, pki.portal.signing.key)
    enveloped = encrypt(signed, pki.municipality.encryption.certificate)
    parsed = cms.ContentInfo.load(enveloped)["content"]
    wrapped = parsed["recipient_infos"][0].chosen["encrypted_key"].native
    ciphertext = parsed["encrypted_content_info"]["encrypted_content"].native
    target = wrapped if where == "encrypted-key" else ciphertext
    offset = {"ciphertext-end": len(target) - 1, "ciphertext-start": 0,
              "encrypted-key": 10}[where]
    changed = bytearray(target)
    changed[offset] ^= 0x40
    data = enveloped.replace(target, bytes(changed))
    with pytest.raises(ProtectionError) as refused:
        open_and_verify(pki, data)
    assert refused.value.condition == errors.INVALID_CERTIFICATE


@pytest.mark.parametrize("body", [
    b"", b"<MsgHead/>", b"\x30\x80" * 5000, b"\x30\x03\x02\x01", bytes(range(256)) * 4,
])
def test_bytes_that_are_not_cms_are_not_protected(pki: Pki, body: bytes) -> None:
    """Plain XML, garbage, an endless indefinite length: refused as not protected."""
    with pytest.raises(NotProtected) as refused:
        decrypt(body, [keys_of(pki.municipality)])
    assert refused.value.condition == errors.INVALID_FIELD_VALUE


def test_signed_but_not_encrypted_is_not_protected(pki: Pki) -> None:
    """A SignedData on its own is refused: the message must be encrypted too."""
    signed = sign(MSGHEAD, pki.portal.signing.certificate, pki.portal.signing.key)
    with pytest.raises(NotProtected, match="signed_data"):
        decrypt(signed, [keys_of(pki.municipality)])


def test_every_truncation_and_flip_is_refused_or_harmless(pki: Pki) -> None:
    """Hostile bytes: each prefix of a protected message, and a sample of single-byte flips,
    either fails as a ProtectionError or yields exactly the original content (a flip in a
    field nothing depends on); never another exception, never other content."""
    signed = sign(MSGHEAD, pki.portal.signing.certificate, pki.portal.signing.key)
    enveloped = encrypt(signed, pki.municipality.encryption.certificate)
    rng = random.Random(12)  # noqa: S311 - test data, not cryptography
    variants = [enveloped[:n] for n in range(0, len(enveloped), 7)]
    for offset in rng.sample(range(len(enveloped)), 120):
        flipped = bytearray(enveloped)
        flipped[offset] ^= 1 << rng.randrange(8)
        variants.append(bytes(flipped))
    for variant in variants:
        try:
            content = open_and_verify(pki, variant)
        except ProtectionError:
            continue
        assert content == MSGHEAD
