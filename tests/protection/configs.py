"""Configuration files with message protection, written from the session's PKI."""

from __future__ import annotations

import json
from pathlib import Path

from digidialog.testing.certificates import PartyKeys, write_crl, write_keys, write_party, write_pem
from tests.protection.pki import Pki

KEY_PASSWORD_VARIABLE = "DIGIDIALOG_TEST_KEY_PASSWORD"  # noqa: S105 - its name
KEY_PASSWORD = "nøkkel-passord-1"  # noqa: S105 - a throwaway key's, in tests


def cms_table(pki: Pki, folder: Path, *, portal_her_id: str, keys: PartyKeys | None = None,
              password: bool = True, extra: dict[str, object] | None = None) -> str:
    """``[portal.cms]`` for the municipality's keys (encrypted with a password read from
    :data:`KEY_PASSWORD_VARIABLE`), the trust store, the CRL and a party folder holding the
    portal's file. Paths are relative to ``folder`` (where the configuration lives)."""
    cms = folder / "cms"
    files = write_keys(cms, keys or pki.municipality,
                       password=KEY_PASSWORD.encode() if password else None)
    write_pem(cms / "ca" / "root.pem", pki.root.certificate)
    write_pem(cms / "ca" / "issuing.pem", pki.issuing.certificate)
    write_crl(cms / "issuing.crl", pki.issuing.crl())
    write_party(cms / "parties", portal_her_id, pki.portal, name="Helsenorge")
    table = {
        "signing_certificate": files.signing_certificate, "signing_key": files.signing_key,
        "encryption_certificate": files.encryption_certificate,
        "encryption_key": files.encryption_key,
        "trust_store": [cms / "ca"], "crls": [cms / "issuing.crl"], "parties": cms / "parties",
    }
    lines = ["[portal.cms]"]
    for key, value in {**table, **(extra or {})}.items():
        lines.append(f"{key} = {_toml(value, folder)}")
    if password:
        lines += [f'signing_key_password = {{ env = "{KEY_PASSWORD_VARIABLE}" }}',
                  f'encryption_key_password = {{ env = "{KEY_PASSWORD_VARIABLE}" }}']
    return "\n".join(lines) + "\n"


def _toml(value: object, folder: Path) -> str:
    if isinstance(value, Path):
        return json.dumps(str(value.relative_to(folder)) if value.is_relative_to(folder)
                          else str(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v, folder) for v in value) + "]"
    return json.dumps(value)


def minimal_config(*, portal_her_id: str = "100000", municipality: str = "1000001",
                   protection: str = "cms") -> str:
    """A configuration of one municipality on Gerica (whose mock need not run to parse it)."""
    return (
        '[portal]\ntransport = "embedded"\n'
        f'her_id = "{portal_her_id}"\nprotection = "{protection}"\n'
        f'[[municipality]]\nname = "Eksempel kommune"\nher_id = "{municipality}"\n'
        'vendor = "gerica"\n[municipality.epj]\nbase_url = "http://127.0.0.1:9"\n'
        '[[municipality.service]]\nvendor_code = "HSP"\nher_id = "1000002"\n'
    )
