"""Interoperability with Debian's ``openssl cms``: each side reads what the other makes.

- What digidialog protects, ``openssl cms -decrypt`` opens with our
  receiver's key and ``openssl cms -verify`` verifies against the trust store.
- What ``openssl cms -sign | openssl cms -encrypt -aes256`` makes, digidialog
  reads; also with RSA-OAEP key transport, an RSA-PSS signature, and no signed
  attributes. 3DES is refused unless legacy ciphers are allowed, and a SHA-1
  signature is refused.

Skipped (with the reason) where no ``openssl`` is on the PATH.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms

from digidialog.protection.errors import TamperedMessage, UndecryptableMessage
from digidialog.testing.certificates import write_keys, write_pem
from tests.protection.pki import MUNICIPALITY, PORTAL, Pki, TwoSides

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="no openssl on the PATH")

MSGHEAD = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<MsgHead xmlns=\"http://www.kith.no/"
           "xmlstds/msghead/2006-05-24\"><Tekst>Kan dere komme kl. 10?\r\nHilsen Åse</Tekst>"
           "</MsgHead>\n").encode()


def openssl(*arguments: str | Path, data: bytes | None = None) -> bytes:
    """Run ``openssl`` with ``data`` on stdin; its stdout, or the test fails with stderr."""
    done = subprocess.run([str(OPENSSL), *map(str, arguments)], input=data,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.fixture
def files(pki: Pki, tmp_path: Path) -> dict[str, Path]:
    """Both parties' certificates and keys, and the trust store, as files for openssl."""
    municipality = write_keys(tmp_path / "municipality", pki.municipality)
    portal = write_keys(tmp_path / "portal", pki.portal)
    return {
        "ca": write_pem(tmp_path / "ca.pem", *pki.trust_store),
        "recipient": municipality.encryption_certificate, "recipient_key":
            municipality.encryption_key,
        "signer": portal.signing_certificate, "signer_key": portal.signing_key,
    }


def test_openssl_opens_and_verifies_what_digidialog_protects(
        sides: TwoSides, files: dict[str, Path], tmp_path: Path) -> None:
    """``openssl cms -decrypt`` then ``-verify`` (chain to the CA, S/MIME signing purpose)."""
    protected = sides.portal.protect(MSGHEAD, sender=PORTAL, receiver=MUNICIPALITY)
    signed = openssl("cms", "-decrypt", "-inform", "DER", "-binary", "-recip",
                     files["recipient"], "-inkey", files["recipient_key"], data=protected)
    content = openssl("cms", "-verify", "-inform", "DER", "-binary", "-CAfile", files["ca"],
                      data=signed)
    assert content == MSGHEAD
    structure = openssl("cms", "-cmsout", "-print", "-inform", "DER", data=protected)
    assert b"aes-256-cbc" in structure


def sign_and_encrypt(files: dict[str, Path], *sign_options: str,
                     encrypt_options: tuple[str, ...] = ("-aes256",)) -> bytes:
    """``openssl cms -sign | openssl cms -encrypt``, as the issue names it, in DER."""
    signed = openssl("cms", "-sign", "-binary", "-nodetach", "-outform", "DER",
                     "-signer", files["signer"], "-inkey", files["signer_key"], *sign_options,
                     data=MSGHEAD)
    cipher, key_options = encrypt_options[0], encrypt_options[1:]
    return openssl("cms", "-encrypt", "-binary", "-outform", "DER", cipher,
                   "-recip", files["recipient"], *key_options, data=signed)


@pytest.mark.parametrize(("sign_options", "encrypt_options"), [
    ((), ("-aes256",)),
    (("-md", "sha512"), ("-aes128",)),
    (("-keyopt", "rsa_padding_mode:pss"), ("-aes256",)),
    (("-noattr",), ("-aes256", "-keyopt", "rsa_padding_mode:oaep")),
    (("-nocerts",), ("-aes256", "-keyopt", "rsa_padding_mode:oaep",
                     "-keyopt", "rsa_oaep_md:sha256")),
], ids=["default", "sha512-aes128", "pss-signature", "no-attributes-oaep", "no-certs-oaep256"])
def test_digidialog_reads_what_openssl_signs_then_encrypts(
        sides: TwoSides, files: dict[str, Path], sign_options: tuple[str, ...],
        encrypt_options: tuple[str, ...]) -> None:
    """The issue's pipeline and its common variants: the MsgHead comes back unchanged."""
    protected = sign_and_encrypt(files, *sign_options, encrypt_options=encrypt_options)
    transport = cms.ContentInfo.load(protected)["content"]["recipient_infos"][0].chosen[
        "key_encryption_algorithm"]["algorithm"].native
    assert transport == ("rsaes_oaep" if "rsa_padding_mode:oaep" in encrypt_options
                         else "rsaes_pkcs1v15")
    assert sides.municipality.unprotect(protected, sender=PORTAL) == MSGHEAD


def test_3des_is_refused_unless_legacy_ciphers_are_allowed(
        pki: Pki, sides: TwoSides, files: dict[str, Path], tmp_path: Path) -> None:
    """``-des3``: refused by default; read when ``refuse_legacy_ciphers`` is off."""
    from tests.protection.pki import protection  # noqa: PLC0415

    legacy = sign_and_encrypt(files, encrypt_options=("-des3",))
    with pytest.raises(UndecryptableMessage, match="refused"):
        sides.municipality.unprotect(legacy, sender=PORTAL)
    lenient = protection(pki, pki.municipality.signing, pki.municipality.encryption,
                         sides.municipality_parties, refuse_legacy=False)
    assert lenient.unprotect(legacy, sender=PORTAL) == MSGHEAD


def test_a_sha1_signature_is_refused(sides: TwoSides, files: dict[str, Path]) -> None:
    """SHA-1 is no longer a digest a signature may rest on."""
    weak = sign_and_encrypt(files, "-md", "sha1")
    with pytest.raises(TamperedMessage, match="sha1 is refused"):
        sides.municipality.unprotect(weak, sender=PORTAL)


def test_openssl_output_signed_by_another_party_is_refused(
        pki: Pki, sides: TwoSides, files: dict[str, Path], tmp_path: Path) -> None:
    """Signed by a good certificate of the trust store that is not the portal's."""
    other = write_keys(tmp_path / "other", pki.other)
    files = {**files, "signer": other.signing_certificate, "signer_key": other.signing_key}
    with pytest.raises(Exception, match="another certificate") as refused:
        sides.municipality.unprotect(sign_and_encrypt(files), sender=PORTAL)
    assert getattr(refused.value, "condition", None) == "transport:invalid-certificate"
