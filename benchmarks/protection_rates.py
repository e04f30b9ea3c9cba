"""Message protection rates: sign+encrypt and decrypt+verify, next to bare AES-256-CBC.

For a 4 KB and a 1 MB message, measured in the same run:

- ``sign+encrypt``: :meth:`CmsProtection.protect` as the daemon calls it
  (the receiver's certificate checked: dates, key usage, chain, CRL; signed
  SHA-256 with RSA-2048; AES-256-CBC for the receiver's RSA-2048 key);
- ``decrypt+verify``: :meth:`CmsProtection.unprotect` (the content key
  unwrapped, decrypted, the sender's certificate checked, the signature
  verified);
- ``AES-256-CBC``: the bare cipher over the same bytes (encrypt beside
  sign+encrypt, decrypt beside decrypt+verify), the least any encryption of
  them costs;
- ``floor``: the cryptography the CMS operation cannot avoid, done with the
  primitives and nothing else: SHA-256 of the content, one RSA-2048 signature
  (or verification) and one RSA key wrap (or unwrap), AES-256-CBC of the
  content. What the CMS operation costs beyond it is structure (DER, asn1crypto)
  and the certificate checks.

The issue sets no rate target, so the table reports and judges nothing: the
ratios say what the CMS layer costs next to the bare cipher and next to its
floor. Timing as the codec rates: CPU time, best of N, the operations taking
turns.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from benchmarks.codec_rates import Settings, best_seconds_per_call
from digidialog.protection.enveloping import DecryptionKey
from digidialog.protection.parties import PartyDirectory
from digidialog.protection.protector import CmsProtection, Identity
from digidialog.protection.revocation import CrlStore
from digidialog.protection.validation import CertificateChecker
from digidialog.testing.certificates import (
    CertificateAuthority,
    Issued,
    PartyKeys,
    write_crl,
    write_party,
)

SIZES = {"4 KB": 4 * 1024, "1 MB": 1024 * 1024}
HEADERS = ("Case", "Op", "CMS msg/s", "AES-256-CBC msg/s", "CMS/AES", "Floor msg/s",
           "CMS/floor", "CMS µs/msg")
SENDER, RECEIVER = "100000", "1000001"


@dataclass(frozen=True)
class ProtectionRate:
    """One operation on one size: the CMS rate, the bare cipher's, the floor's."""

    case: str
    operation: str
    per_second: float
    aes_per_second: float
    floor_per_second: float


def message(size: int) -> bytes:
    """A MsgHead-like document of ``size`` bytes (the content does not matter to a cipher)."""
    head = b'<?xml version="1.0" encoding="utf-8"?><MsgHead><Document><Content>'
    tail = b"</Content></Document></MsgHead>"
    filler = (b"Kan dere komme en halvtime senere i morgen? " * (size // 40 + 1))
    return head + filler[: size - len(head) - len(tail)] + tail


def _sides(folder: Path) -> tuple[CmsProtection, CmsProtection, PartyKeys, PartyKeys]:
    root = CertificateAuthority.root()
    issuing = root.intermediate()
    sender, receiver = PartyKeys.issued_by(issuing, "sender"), PartyKeys.issued_by(
        issuing, "receiver")
    crl = write_crl(folder / "issuing.crl", issuing.crl())
    write_party(folder / "sender-knows", RECEIVER, receiver)
    write_party(folder / "receiver-knows", SENDER, sender)

    def side(keys: PartyKeys, parties: Path) -> CmsProtection:
        own = Identity(keys.signing.certificate, keys.signing.key, DecryptionKey(
            keys.encryption.certificate, _rsa(keys.encryption)))
        return CmsProtection([own], PartyDirectory(parties),
                             CertificateChecker(issuing.chain(), CrlStore([crl])))

    return (side(sender, folder / "sender-knows"), side(receiver, folder / "receiver-knows"),
            sender, receiver)


def _rsa(issued: Issued) -> rsa.RSAPrivateKey:
    if not isinstance(issued.key, rsa.RSAPrivateKey):
        raise TypeError("the benchmark's keys are RSA")
    return issued.key


def _aes(data: bytes) -> tuple[Callable[[], bytes], Callable[[], bytes]]:
    key, iv = os.urandom(32), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()

    def encrypt() -> bytes:
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        return encryptor.update(padded) + encryptor.finalize()

    ciphertext = encrypt()

    def decrypt() -> bytes:
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize()

    return encrypt, decrypt


def _floors(data: bytes, sender: PartyKeys, receiver: PartyKeys
            ) -> tuple[Callable[[], object], Callable[[], object]]:
    encrypt, decrypt = _aes(data)
    signing, unwrapping = _rsa(sender.signing), _rsa(receiver.encryption)
    signature = signing.sign(b"digest", asymmetric.PKCS1v15(), hashes.SHA256())
    wrapped = unwrapping.public_key().encrypt(os.urandom(32), asymmetric.PKCS1v15())

    def digest() -> bytes:
        hasher = hashes.Hash(hashes.SHA256())
        hasher.update(data)
        return hasher.finalize()

    def protect_floor() -> object:
        signing.sign(digest(), asymmetric.PKCS1v15(), hashes.SHA256())
        unwrapping.public_key().encrypt(os.urandom(32), asymmetric.PKCS1v15())
        return encrypt()

    def unprotect_floor() -> object:
        unwrapping.decrypt(wrapped, asymmetric.PKCS1v15())
        decrypt()
        digest()
        signing.public_key().verify(signature, b"digest", asymmetric.PKCS1v15(),
                                    hashes.SHA256())
        return None

    return protect_floor, unprotect_floor


def measure(settings: Settings) -> list[ProtectionRate]:
    """Both operations for both sizes, each beside its bare cipher and its floor."""
    rates: list[ProtectionRate] = []
    with tempfile.TemporaryDirectory(prefix="digidialog-bench-") as folder:
        sending, receiving, sender, receiver = _sides(Path(folder))
        for case, size in SIZES.items():
            data = message(size)
            protected = sending.protect(data, sender=SENDER, receiver=RECEIVER)
            if receiving.unprotect(protected, sender=SENDER) != data:
                raise AssertionError("the benchmark's message did not come back")
            encrypt, decrypt = _aes(data)
            protect_floor, unprotect_floor = _floors(data, sender, receiver)
            seconds = best_seconds_per_call({
                "sign+encrypt": lambda data=data: sending.protect(
                    data, sender=SENDER, receiver=RECEIVER),
                "aes-encrypt": encrypt, "protect-floor": protect_floor,
                "decrypt+verify": lambda protected=protected: receiving.unprotect(
                    protected, sender=SENDER),
                "aes-decrypt": decrypt, "unprotect-floor": unprotect_floor,
            }, settings)
            rates.append(ProtectionRate(case, "sign+encrypt", 1 / seconds["sign+encrypt"],
                                        1 / seconds["aes-encrypt"],
                                        1 / seconds["protect-floor"]))
            rates.append(ProtectionRate(case, "decrypt+verify", 1 / seconds["decrypt+verify"],
                                        1 / seconds["aes-decrypt"],
                                        1 / seconds["unprotect-floor"]))
    return rates


def rows(rates: Sequence[ProtectionRate]) -> list[list[str]]:
    """One table row per measured operation."""
    return [[
        rate.case, rate.operation, f"{rate.per_second:,.0f}", f"{rate.aes_per_second:,.0f}",
        f"{rate.per_second / rate.aes_per_second:.3f}", f"{rate.floor_per_second:,.0f}",
        f"{rate.per_second / rate.floor_per_second:.2f}", f"{1e6 / rate.per_second:,.0f}",
    ] for rate in rates]
