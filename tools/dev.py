#!/usr/bin/env python3
"""Set up a development environment and run the demo, the tests or the benchmarks.

Needs nothing but Python 3.11 or newer:

    python3 tools/dev.py demo     # create .venv, install everything, run `digidialog demo`
    python3 tools/dev.py test     # ... then ruff, strict mypy and the whole pytest suite
    python3 tools/dev.py bench    # ... then the benchmarks, printing a table

The virtual environment lives in ``.venv`` (or ``$DIGIDIALOG_VENV``) and is
reinstalled only when a ``pyproject.toml`` changed since the last install. It
holds the core and every vendor adapter, editable, with the ``dev`` and
``mock`` extras (a plain ``pip install digidialog`` carries no test machinery).
Extra arguments after the command are passed on (to pytest for ``test``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("DIGIDIALOG_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PACKAGES = [
    ROOT,
    *sorted(p for p in (ROOT / "adapters").iterdir() if (p / "pyproject.toml").exists()),
]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for package in PACKAGES:
        digest.update((package / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def _run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, check=False)
    if completed.returncode:
        sys.exit(completed.returncode)


def ensure_environment() -> None:
    """Create the virtual environment and install the workspace into it, if needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any check can
        sys.exit("digidialog needs Python 3.11 or newer")
    stamp = VENV / ".digidialog-installed"
    if stamp.exists() and stamp.read_text() == _fingerprint():
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # The mock extras bring the test machinery (pytest-httpserver, werkzeug, cryptography)
    # that a production install of digidialog never carries.
    editable = [arg for package in PACKAGES for arg in ("-e", f"{package}[mock]")]
    editable[1] = f"{ROOT}[dev,mock]"
    _run(BIN / "python", "-m", "pip", "install", "--quiet", *editable)
    stamp.write_text(_fingerprint())


def main(argv: list[str]) -> None:
    """Dispatch ``demo``, ``test`` or ``bench``."""
    command, extra = (argv[0], argv[1:]) if argv else ("test", [])
    ensure_environment()
    if command == "demo":
        _run(BIN / "digidialog", "demo", *extra)
    elif command == "test":
        _run(BIN / "ruff", "check", "src", "tests", "benchmarks", "adapters", "tools")
        _run(BIN / "mypy")
        _run(BIN / "python", "-m", "pytest", *extra)
    elif command == "bench":
        _run(BIN / "python", "-m", "benchmarks", *extra)
    else:
        sys.exit(f"unknown command {command!r}: use demo, test or bench")


if __name__ == "__main__":
    main(sys.argv[1:])
