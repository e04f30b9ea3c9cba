"""CMS EnvelopedData: encrypting with ``cryptography``, decrypting with asn1crypto and primitives.

Encryption is ``PKCS7EnvelopeBuilder``: AES-256-CBC content, the content key
sent to the receiver's encryption certificate by RSA PKCS#1 v1.5 key
transport (what .NET's ``EnvelopedCms`` and ``openssl cms -encrypt`` do).

Decryption is done here rather than with ``pkcs7_decrypt_der``, because the
receiver needs what that function does not give: choose among several keys
of ours (the current one and, during a rollover, the previous one) by the
recipient the message names; read RSA-OAEP key transport as well as
PKCS#1 v1.5; refuse 3DES and DES content when configured, yet read them for
a legacy party when not; and fail the same way whatever went wrong inside,
so that the error reports sent back cannot serve as a padding oracle (a
PKCS#1 v1.5 key that does not unwrap is replaced by a random one, RFC 3218).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7

from digidialog.protection.certificates import describe
from digidialog.protection.errors import NotProtected, UndecryptableMessage
from digidialog.protection.signing import MALFORMED, asn1_certificate, identifies

LEGACY_CIPHERS = frozenset({"tripledes", "des"})
"""Content ciphers refused when ``refuse_legacy_ciphers`` is on (the default)."""

_OAEP_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_UNREADABLE = ("cannot be decrypted with our key, or was changed on the way")


@dataclass(frozen=True)
class DecryptionKey:
    """One of our encryption certificates with its private key; ``label`` names it in logs."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    label: str = "current"


def encrypt(content: bytes, recipient: x509.Certificate) -> bytes:
    """``content`` as DER EnvelopedData (in a ContentInfo) for ``recipient``, AES-256-CBC."""
    builder = (pkcs7.PKCS7EnvelopeBuilder().set_data(content).add_recipient(recipient)
               .set_content_encryption_algorithm(algorithms.AES256))
    return builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def decrypt(data: bytes, keys: Sequence[DecryptionKey], *,
            refuse_legacy: bool = True) -> tuple[bytes, DecryptionKey]:
    """The content of the EnvelopedData ``data``, and which of ``keys`` opened it.

    ``keys`` are tried in order (current first) against the recipients the
    message names.
    """
    try:
        return _decrypt(data, keys, refuse_legacy)
    except MALFORMED as error:  # asn1crypto reads lazily: hostile DER fails wherever it is read
        raise NotProtected(f"the body is not well-formed CMS ({type(error).__name__}); "
                           "signed-and-enveloped data is required") from None


def _decrypt(data: bytes, keys: Sequence[DecryptionKey],
             refuse_legacy: bool) -> tuple[bytes, DecryptionKey]:
    enveloped = _enveloped_data(data)
    content_info = enveloped["encrypted_content_info"]
    algorithm = content_info["content_encryption_algorithm"]
    cipher = _cipher_name(algorithm)
    if refuse_legacy and cipher in LEGACY_CIPHERS:
        raise UndecryptableMessage(f"content cipher {algorithm['algorithm'].native} is "
                                   "refused (AES is required)")
    ciphertext = content_info["encrypted_content"].native
    if not isinstance(ciphertext, bytes):
        raise UndecryptableMessage("the encrypted content is missing")
    recipients = [info.chosen for info in enveloped["recipient_infos"] if info.name == "ktri"]
    for candidate in keys:
        wanted = asn1_certificate(candidate.certificate)
        for recipient in recipients:
            if identifies(recipient["rid"], wanted):
                content_key = _unwrap(recipient, candidate.key, algorithm.key_length)
                return _decrypt_content(algorithm, cipher, content_key, ciphertext), candidate
    ours = ", ".join(f"{k.label} {describe(k.certificate)}" for k in keys)
    raise UndecryptableMessage(f"encrypted for none of our certificates ({ours})")


def _enveloped_data(data: bytes) -> Any:
    info = cms.ContentInfo.load(data, strict=True)
    kind = info["content_type"].native
    enveloped = info["content"]
    if kind != "enveloped_data":
        raise NotProtected(f"the body is CMS {kind}, not signed-and-enveloped data")
    return enveloped


def _cipher_name(algorithm: Any) -> str:
    try:
        cipher: str = algorithm.encryption_cipher
        mode: str = algorithm.encryption_mode
    except ValueError:
        cipher, mode = algorithm["algorithm"].dotted, "?"
    if cipher not in {"aes", *LEGACY_CIPHERS} or mode != "cbc":
        raise UndecryptableMessage(f"content cipher {algorithm['algorithm'].native} is not "
                                   "supported (AES-CBC is required)")
    return cipher


def _unwrap(recipient: Any, key: rsa.RSAPrivateKey, length: int) -> bytes:
    algorithm = recipient["key_encryption_algorithm"]
    name = algorithm["algorithm"].native
    wrapped: bytes = recipient["encrypted_key"].native
    if name in ("rsaes_pkcs1v15", "rsa"):
        try:
            content_key = key.decrypt(wrapped, padding.PKCS1v15())
        except ValueError:
            content_key = b""
        # RFC 3218: a key that does not unwrap goes on as a random one, failing later
        # exactly as a wrong key would, so that nobody learns which step failed.
        return content_key if len(content_key) == length else os.urandom(length)
    if name == "rsaes_oaep":
        try:
            content_key = key.decrypt(wrapped, _oaep(algorithm["parameters"]))
        except ValueError:
            raise UndecryptableMessage(_UNREADABLE) from None
        if len(content_key) != length:
            raise UndecryptableMessage(_UNREADABLE)
        return content_key
    raise UndecryptableMessage(f"key transport {name} is not supported (RSA is required)")


def _oaep(parameters: Any) -> padding.OAEP:
    digest = parameters["hash_algorithm"]["algorithm"].native
    mask = parameters["mask_gen_algorithm"]["parameters"]["algorithm"].native
    if digest not in _OAEP_DIGESTS or mask not in _OAEP_DIGESTS:
        raise UndecryptableMessage(f"RSA-OAEP with {digest}/{mask} is not supported")
    label = parameters["p_source_algorithm"]["parameters"].native or None
    return padding.OAEP(mgf=padding.MGF1(_OAEP_DIGESTS[mask]()),
                        algorithm=_OAEP_DIGESTS[digest](), label=label)


def _decrypt_content(algorithm: Any, cipher: str, key: bytes, ciphertext: bytes) -> bytes:
    iv = algorithm.encryption_iv
    block = 16 if cipher == "aes" else 8
    if not isinstance(iv, bytes) or len(iv) != block or not ciphertext \
            or len(ciphertext) % block:
        raise UndecryptableMessage(_UNREADABLE)
    if cipher == "aes":
        primitive: Any = algorithms.AES(key)
    else:  # 3DES, or DES as 3DES with one key thrice
        primitive = TripleDES(key if cipher == "tripledes" else key * 3)
    decryptor = Cipher(primitive, modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    if not 0 < pad <= block or padded[-pad:] != bytes([pad]) * pad:
        raise UndecryptableMessage(_UNREADABLE)
    return padded[:-pad]
