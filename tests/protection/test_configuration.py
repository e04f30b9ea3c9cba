"""``[portal] protection = "cms"`` and ``[portal.cms]``: loaded, or refused naming the key.

Whether the files exist is checked with the rest of the file; whether they
hold what they should (a key that fits its certificate, the password that opens
it, an RSA key for decryption, the portal's party file) when the protection is
built, still before anything starts, every problem named by its key.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from digidialog.daemon.config import ConfigError, load_config
from digidialog.daemon.protection import build_protection
from digidialog.protection.protector import CmsProtection
from digidialog.testing.certificates import PartyKeys, write_file, write_keys
from tests.protection.configs import (
    KEY_PASSWORD,
    KEY_PASSWORD_VARIABLE,
    cms_table,
    minimal_config,
)
from tests.protection.pki import Pki

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "digidialog.example.toml"


@pytest.fixture(autouse=True)
def key_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys' password, where the configuration says to read it."""
    monkeypatch.setenv(KEY_PASSWORD_VARIABLE, KEY_PASSWORD)


def write(folder: Path, text: str) -> Path:
    """The configuration ``text`` as ``folder/digidialog.toml``."""
    return write_file(folder / "digidialog.toml", text.encode())


def test_cms_is_loaded_and_built(pki: Pki, tmp_path: Path) -> None:
    """Keys opened with the password from the environment, the trust store read from a
    folder, the CRL, the portal's party file: a protection with our keys."""
    config = load_config(write(tmp_path, minimal_config() + cms_table(
        pki, tmp_path, portal_her_id="100000")))
    assert config.portal.protection == "cms"
    assert config.portal.cms is not None
    assert config.portal.cms.refuse_legacy_ciphers is True
    assert "nøkkel" not in repr(config)
    protection = build_protection(config)
    assert isinstance(protection, CmsProtection)
    [identity] = protection.identities
    assert identity.signing_certificate == pki.municipality.signing.certificate
    assert protection.own_problems == []
    assert len(protection.checker.anchors) == 2


def test_none_builds_nothing(tmp_path: Path) -> None:
    """The default: no protection, and no [portal.cms] needed."""
    config = load_config(write(tmp_path, minimal_config(protection="none")))
    assert build_protection(config) is None


def test_a_municipality_may_have_keys_of_its_own(pki: Pki, tmp_path: Path) -> None:
    """``[municipality.cms]``: its keys speak for its HER-id and its services'."""
    own = write_keys(tmp_path / "own", PartyKeys.issued_by(pki.issuing, "Fjordvik"))
    text = minimal_config() + "\n".join([
        "[municipality.cms]",
        f'signing_certificate = "{own.signing_certificate}"',
        f'signing_key = "{own.signing_key}"',
        f'encryption_certificate = "{own.encryption_certificate}"',
        f'encryption_key = "{own.encryption_key}"', "",
    ]) + cms_table(pki, tmp_path, portal_her_id="100000")
    protection = build_protection(load_config(write(tmp_path, text)))
    assert protection is not None
    assert protection.identity_for("1000002").name == "1000001"
    assert protection.identity_for("1000002").signing_certificate != \
        pki.municipality.signing.certificate
    assert protection.identity_for("1009999").name == "default"


@pytest.mark.parametrize(("change", "problem"), [
    (lambda text: text.replace('protection = "cms"', 'protection = "pgp"'),
     'portal.protection: one of "none", "cms"'),
    (lambda text: text.split("[portal.cms]")[0],
     'portal.cms: required with protection = "cms"'),
    (lambda text: text.replace('parties = "cms/parties"', 'parties = "nowhere"'),
     "portal.cms.parties: no such folder"),
    (lambda text: text.replace('signing_key = "cms/signing.key"', 'signing_key = "x.key"'),
     "portal.cms.signing_key: no such file"),
    (lambda text: text.replace("[portal.cms]", "[portal.cms]\nprevious_encryption_certificate"
                               ' = "cms/encryption.pem"'),
     "portal.cms.previous_encryption_key: required with previous_encryption_certificate"),
    (lambda text: text.replace("[portal.cms]", "[portal.cms]\nrefuse_3des = true"),
     "portal.cms.refuse_3des: unknown key"),
    (lambda text: text.replace("[portal.cms]", "[portal.cms]\ntrust_store = []").replace(
        'trust_store = ["cms/ca"]\n', ""),
     "portal.cms.trust_store: name at least one"),
])
def test_a_bad_cms_table_is_refused_naming_the_key(pki: Pki, tmp_path: Path, change: object,
                                                   problem: str) -> None:
    """Each problem as ``key.path: reason``."""
    text = minimal_config() + cms_table(pki, tmp_path, portal_her_id="100000")
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, change(text)))  # type: ignore[operator]
    assert any(line.startswith(problem) for line in refused.value.problems), \
        refused.value.problems


def test_what_the_files_hold_is_checked_every_problem_named(pki: Pki, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """A signing key that is not encrypted though a password is given, a wrong password, a
    trust store folder without certificates, no party file for the portal: one refusal, each
    problem on its line under its key."""
    text = minimal_config(portal_her_id="100099") + cms_table(
        pki, tmp_path, portal_her_id="100000")
    other = write_keys(tmp_path / "other", PartyKeys.issued_by(pki.issuing, "Annen",
                                                                 signing_key_type="ec"))
    empty = tmp_path / "empty-ca"
    empty.mkdir()
    text = text.replace('signing_key = "cms/signing.key"', f'signing_key = "{other.signing_key}"')
    text = text.replace('trust_store = ["cms/ca"]', f'trust_store = ["cms/ca", "{empty}"]')
    monkeypatch.setenv(KEY_PASSWORD_VARIABLE, "wrong")
    config = load_config(write(tmp_path, text))
    with pytest.raises(ConfigError) as refused:
        build_protection(config)
    problems = refused.value.problems
    assert any(re.match(r"portal\.cms\.signing_key: .*(does not fit|not encrypted)", p)
               for p in problems), problems
    assert any(re.match(r"portal\.cms\.encryption_key: .*password is wrong", p)
               for p in problems), problems
    assert any(p.startswith("portal.cms.trust_store[2]: ") and "no certificate" in p
               for p in problems), problems
    assert any(p.startswith("portal.cms.parties: no certificate file for the portal 100099")
               for p in problems), problems


def test_a_key_that_does_not_fit_its_certificate_is_named(pki: Pki, tmp_path: Path) -> None:
    """The encryption key of one certificate beside another's certificate."""
    text = minimal_config() + cms_table(pki, tmp_path, portal_her_id="100000", password=False)
    text = text.replace('encryption_key = "cms/encryption.key"',
                        'encryption_key = "cms/signing.key"')
    with pytest.raises(ConfigError) as refused:
        build_protection(load_config(write(tmp_path, text)))
    assert refused.value.problems == (
        "portal.cms.encryption_key: does not fit encryption_certificate (encryption.pem)",)


def test_a_decryption_key_must_be_rsa(pki: Pki, tmp_path: Path) -> None:
    """An EC certificate and key as our encryption pair: CMS key transport needs RSA."""
    ec = pki.issuing.issue("EC encryption", usage="encryption", key_type="ec")
    write_file(tmp_path / "ec.pem", ec.certificate_pem())
    write_file(tmp_path / "ec.key", ec.key_pem(), secret=True)
    text = minimal_config() + cms_table(pki, tmp_path, portal_her_id="100000", password=False)
    text = text.replace('encryption_key = "cms/encryption.key"', 'encryption_key = "ec.key"')
    text = text.replace('encryption_certificate = "cms/encryption.pem"',
                        'encryption_certificate = "ec.pem"')
    with pytest.raises(ConfigError) as refused:
        build_protection(load_config(write(tmp_path, text)))
    assert refused.value.problems == (
        "portal.cms.encryption_key: an RSA key is needed (CMS key transport)",)


def test_the_examples_cms_block_loads_when_uncommented(pki: Pki, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/digidialog.example.toml shows [portal.cms] commented out; uncommented, with its
    files in place and its variables set, it loads and builds."""
    text = EXAMPLE.read_text("utf-8")
    start, end = text.index("# [portal.cms]"), text.index("# (end of [portal.cms])")
    block = "\n".join(line.removeprefix("# ") for line in text[start:end].splitlines())
    cms_table(pki, tmp_path, portal_her_id="100000")  # writes cms/ with every file
    for name in re.findall(r'env = "(\w+)"', text):
        monkeypatch.setenv(name, KEY_PASSWORD if "KEY" in name else "value")
    uncommented = text[:start] + block + "\n" + text[end:]
    config = load_config(write(tmp_path, uncommented.replace('protection = "none"',
                                                             'protection = "cms"')))
    assert config.portal.cms is not None
    assert build_protection(config) is not None
