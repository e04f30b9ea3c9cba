"""Where message protection sits, and that no private key is ever committed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_import_layers import PACKAGE, ROOT, offending_imports

PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]{64,}"
                             rb"-----END [A-Z ]*PRIVATE KEY-----")
"""A PEM private key block, in whatever file it hides (a test's string included)."""


@pytest.mark.parametrize("other", ["digidialog.sync", "digidialog.adapters",
                                   "digidialog.helsenorge", "digidialog.daemon",
                                   "digidialog.store"])
def test_protection_imports_no_engine_no_codec_no_daemon(other: str) -> None:
    """The protection layer sits on the transport contract: bytes in, bytes out."""
    assert offending_imports([PACKAGE / "protection"], other) == []


def test_the_protection_marker_loads_no_cryptography() -> None:
    """The engine reads the marker; importing it must not load the CMS machinery."""
    probe = ("import sys, digidialog.protection, digidialog.sync.inbound\n"
             "print(any(m.split('.')[0] in ('cryptography', 'asn1crypto') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"


def test_no_private_key_is_committed() -> None:
    """Tests make their keys on the spot: nothing in the repository holds one."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            timeout=60, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    names = [n for n in listed.stdout.decode().split("\0") if n]
    holding = [name for name in names if (ROOT / name).is_file()
               and PEM_PRIVATE_KEY.search((ROOT / name).read_bytes())]
    assert holding == []
    assert [n for n in names if Path(n).suffix in {".key", ".p12", ".pfx"}] == []
