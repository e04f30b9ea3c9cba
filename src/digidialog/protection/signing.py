"""CMS SignedData: signing with ``cryptography``, verifying with ``asn1crypto``.

Signing embeds the content (the MsgHead bytes, unchanged: ``Binary``), the
signer's certificate and the usual signed attributes (content type, signing
time, message digest), as .NET's ``SignedCms`` and ``openssl cms -sign`` do.

``cryptography`` cannot verify a SignedData, so verification reads the
structure with asn1crypto and checks it with ``cryptography``'s primitives,
against the certificate the *receiver* expects (the party's, from its
certificate file), never against whatever certificate the message carries:

- exactly one signer, identified (issuer and serial, or subject key
  identifier) as the expected certificate, else :class:`WrongSigner`;
- a SHA-2 digest; with signed attributes, their content type is the
  content's and their message digest the content's digest;
- the signature over the signed attributes (or the content, without them)
  verifies with the expected certificate's key: RSA PKCS#1 v1.5, RSA-PSS or
  ECDSA. Anything else is :class:`TamperedMessage`.
"""

from __future__ import annotations

import functools
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from digidialog.protection.certificates import PrivateKey, describe
from digidialog.protection.errors import NotProtected, TamperedMessage, WrongSigner

DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}
"""Digest algorithms accepted in a signature (SHA-1 and MD5 are not)."""

_SET_OF_TAG = b"\x31"

MALFORMED = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError)
"""What asn1crypto raises on DER it cannot read (it reads lazily, so anywhere)."""


def sign(content: bytes, certificate: x509.Certificate, key: PrivateKey) -> bytes:
    """``content`` as DER SignedData (in a ContentInfo), signed SHA-256 with ``key``."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(
        certificate, key, hashes.SHA256())
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def verify(data: bytes, expected: x509.Certificate) -> bytes:
    """The content of the SignedData ``data`` once its signature by ``expected`` is verified."""
    try:
        return _verify(data, expected)
    except MALFORMED as error:  # asn1crypto reads lazily: hostile DER fails wherever it is read
        raise TamperedMessage(f"the signed content is not a well-formed CMS SignedData "
                              f"({type(error).__name__})") from None


def _verify(data: bytes, expected: x509.Certificate) -> bytes:
    signed = _signed_data(data)
    encapsulated = signed["encap_content_info"]
    content = encapsulated["content"].native if encapsulated["content"] else None
    if not isinstance(content, bytes):
        raise TamperedMessage("the signed content is missing (a detached signature)")
    signers = list(signed["signer_infos"])
    if len(signers) != 1:
        raise TamperedMessage(f"{len(signers)} signers; one is expected")
    signer = signers[0]
    if not identifies(signer["sid"], asn1_certificate(expected)):
        raise WrongSigner(f"signed by another certificate than the sender's {describe(expected)}")
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in DIGESTS:
        raise TamperedMessage(f"digest algorithm {digest_name} is refused (SHA-2 needed)")
    digest = DIGESTS[digest_name]()
    signed_bytes = _signed_bytes(signer, encapsulated["content_type"].native, content, digest)
    _check_signature(signer, signed_bytes, expected, digest)
    return content


def _signed_data(data: bytes) -> Any:
    info = cms.ContentInfo.load(data, strict=True)
    if info["content_type"].native != "signed_data":
        raise NotProtected(f"the decrypted content is {info['content_type'].native}, "
                           "not signed data")
    return info["content"]


@functools.lru_cache(maxsize=256)
def asn1_certificate(certificate: x509.Certificate) -> Any:
    """``certificate`` as asn1crypto reads it (kept: the same few certificates every time)."""
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def identifies(identifier: Any, certificate: Any) -> bool:
    """Whether a CMS SignerIdentifier or RecipientIdentifier names ``certificate``.

    Names are compared as encoded first (the usual case, and cheap), and only
    when the bytes differ by asn1crypto's RFC 5280 comparison (slow: string
    preparation of every attribute).
    """
    if identifier.name == "issuer_and_serial_number":
        chosen = identifier.chosen
        if chosen["serial_number"].native != certificate.serial_number:
            return False
        issuer = chosen["issuer"]
        return bool(issuer.dump() == certificate.issuer.dump()
                    or issuer == certificate.issuer)
    if identifier.name == "subject_key_identifier":
        return bool(identifier.chosen.native == certificate.key_identifier)
    return False


def _signed_bytes(signer: Any, content_type: str, content: bytes,
                  digest: hashes.HashAlgorithm) -> bytes:
    attributes = signer["signed_attrs"]
    if not attributes:
        return content
    found = {attribute["type"].native: attribute["values"] for attribute in attributes}
    types = found.get("content_type")
    digests = found.get("message_digest")
    if types is None or digests is None or len(types) != 1 or len(digests) != 1:
        raise TamperedMessage("the signed attributes lack one content type and one digest")
    if types[0].native != content_type:
        raise TamperedMessage("the signed content type is not the content's")
    hasher = hashes.Hash(digest)
    hasher.update(content)
    if digests[0].native != hasher.finalize():
        raise TamperedMessage("the content was changed after it was signed (digest differs)")
    # The signature covers the attributes as a SET OF, not with the [0] tag they travel under.
    encoded: bytes = attributes.dump()
    return _SET_OF_TAG + encoded[1:]


def _check_signature(signer: Any, signed_bytes: bytes, certificate: x509.Certificate,
                     digest: hashes.HashAlgorithm) -> None:
    algorithm = signer["signature_algorithm"]
    signature: bytes = signer["signature"].native
    public = certificate.public_key()
    try:
        kind = algorithm.signature_algo
        if isinstance(public, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
            public.verify(signature, signed_bytes, padding.PKCS1v15(), digest)
        elif isinstance(public, rsa.RSAPublicKey) and kind == "rsassa_pss":
            public.verify(signature, signed_bytes, _pss(algorithm["parameters"], digest), digest)
        elif isinstance(public, ec.EllipticCurvePublicKey) and kind == "ecdsa":
            public.verify(signature, signed_bytes, ec.ECDSA(digest))
        else:
            raise TamperedMessage(f"signature algorithm {algorithm['algorithm'].native} does "
                                  f"not fit the sender's {type(public).__name__} key")
    except InvalidSignature:
        raise TamperedMessage("the signature does not verify: the message was changed after "
                              "it was signed, or signed with another key") from None
    except (ValueError, KeyError) as error:
        raise TamperedMessage(f"the signature cannot be checked ({type(error).__name__})"
                              ) from None


def _pss(parameters: Any, digest: hashes.HashAlgorithm) -> padding.PSS:
    if parameters["hash_algorithm"]["algorithm"].native != digest.name:
        raise TamperedMessage("the PSS digest is not the signer's digest")
    mask_hash = parameters["mask_gen_algorithm"]["parameters"]["algorithm"].native
    if mask_hash not in DIGESTS:
        raise TamperedMessage(f"PSS mask digest {mask_hash} is refused")
    return padding.PSS(mgf=padding.MGF1(DIGESTS[mask_hash]()),
                       salt_length=int(parameters["salt_length"].native))
