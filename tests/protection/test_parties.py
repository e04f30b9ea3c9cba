"""Party certificate files: one per HER-id, CPA-shaped; a missing or bad one is named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from digidialog.protection.errors import CertificateInvalid, UnknownParty
from digidialog.protection.parties import PartyDirectory, read_party
from digidialog.testing.certificates import write_file, write_party
from tests.protection.pki import PORTAL, Pki


def test_a_party_file_names_its_two_certificates(pki: Pki, tmp_path: Path) -> None:
    """HER-id, name, agreement id, signing and encryption certificates from PEM files."""
    write_party(tmp_path, PORTAL, pki.portal, name="Helsenorge", cpa_id="cpa-1")
    party = PartyDirectory(tmp_path).get(PORTAL)
    assert (party.her_id, party.name, party.cpa_id) == (PORTAL, "Helsenorge", "cpa-1")
    assert party.signing == pki.portal.signing.certificate
    assert party.encryption == pki.portal.encryption.certificate


def test_certificates_may_be_written_into_the_file(pki: Pki, tmp_path: Path) -> None:
    """As a CPA embeds them: the PEM text as the key's value."""
    pem = pki.portal.signing.certificate_pem().decode()
    encryption = pki.portal.encryption.certificate_pem().decode()
    write_file(tmp_path / "100000.toml", (
        f'her_id = "100000"\nsigning_certificate = """{pem}"""\n'
        f'encryption_certificate = """{encryption}"""\n').encode())
    assert read_party(tmp_path / "100000.toml").signing == pki.portal.signing.certificate


def test_a_missing_party_is_refused_without_telling_the_sender_our_paths(tmp_path: Path
                                                                         ) -> None:
    """The error text goes back to the sender: it names the party, not our folders."""
    with pytest.raises(UnknownParty, match="100009") as refused:
        PartyDirectory(tmp_path).get("100009")
    assert str(tmp_path) not in str(refused.value)
    with pytest.raises(UnknownParty, match="not one"):
        PartyDirectory(tmp_path).get("../etc/passwd")
    with pytest.raises(UnknownParty):
        PartyDirectory(tmp_path).get(None)


@pytest.mark.parametrize(("content", "said"), [
    ('her_id = "100001"\n', "is not the file's name"),
    ('her_id = "100000"\nsigning_certificate = "s.pem"\n', "encryption_certificate"),
    ('her_id = "100000"\nsigning = "s.pem"\n', "signing: unknown key"),
    ('her_id = "100000"\nsigning_certificate = "nowhere.pem"\n'
     'encryption_certificate = "e.pem"\n', "signing_certificate: .*cannot be read"),
    ('her_id = "100000"\nsigning_certificate = "garbage.pem"\n'
     'encryption_certificate = "e.pem"\n', "signing_certificate: .*not a certificate"),
    ("her_id = [\n", "not valid TOML"),
])
def test_a_bad_party_file_names_the_key(pki: Pki, tmp_path: Path, content: str,
                                        said: str) -> None:
    """Each problem names the file and the key that is wrong."""
    write_file(tmp_path / "s.pem", pki.portal.signing.certificate_pem())
    write_file(tmp_path / "e.pem", pki.portal.encryption.certificate_pem())
    write_file(tmp_path / "garbage.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n")
    write_file(tmp_path / "100000.toml", content.encode())
    with pytest.raises(CertificateInvalid, match=said):
        read_party(tmp_path / "100000.toml")
    parties, problems = PartyDirectory(tmp_path).all()
    assert parties == [] and len(problems) == 1
    with pytest.raises(UnknownParty, match="cannot be read"):
        PartyDirectory(tmp_path).get("100000")


def test_a_der_certificate_file_is_read(pki: Pki, tmp_path: Path) -> None:
    """DER as well as PEM."""
    write_party(tmp_path, PORTAL, pki.portal)
    der = pki.portal.signing.certificate.public_bytes(serialization.Encoding.DER)
    write_file(tmp_path / f"{PORTAL}-signing.pem", der)
    assert read_party(tmp_path / f"{PORTAL}.toml").signing == pki.portal.signing.certificate


def test_a_changed_party_file_is_taken_without_a_restart(pki: Pki, tmp_path: Path) -> None:
    """A party's new certificates (a rollover on their side) are read when the file changes."""
    directory = PartyDirectory(tmp_path, recheck_seconds=0)
    path = write_party(tmp_path, PORTAL, pki.portal)
    assert directory.get(PORTAL).signing == pki.portal.signing.certificate
    write_party(tmp_path, PORTAL, pki.other)
    later = path.stat().st_mtime_ns + 2_000_000_000
    os.utime(path, ns=(later, later))
    assert directory.get(PORTAL).signing == pki.other.signing.certificate
