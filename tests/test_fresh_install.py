"""A production install carries no test machinery: the core and one adapter, without extras,
installed from this checkout into a new virtual environment.

Builds the two wheels and installs their dependencies (from pip's cache when warm, about
20 s); marked ``slow`` so that ``-m "not slow"`` can leave it out of a quick run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_MACHINERY = {"pytest", "werkzeug", "pytest-httpserver"}


def _run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.mark.slow
def test_core_and_one_adapter_install_without_test_machinery(tmp_path: Path) -> None:
    """``pip install digidialog digidialog-gerica`` brings no pytest, werkzeug or
    pytest-httpserver; the CLI and the adapter work, and ``mock-epj`` names the extra."""
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python, digidialog = venv / "bin" / "python", venv / "bin" / "digidialog"
    installed = _run(python, "-m", "pip", "install", "--quiet", ROOT, ROOT / "adapters" / "gerica")
    assert installed.returncode == 0, installed.stderr[-3000:]

    listed = _run(python, "-m", "pip", "list", "--format=freeze")
    names = {line.split("==")[0].lower() for line in listed.stdout.splitlines()}
    assert {"digidialog", "digidialog-gerica"} <= names
    assert names.isdisjoint(TEST_MACHINERY), names & TEST_MACHINERY

    help_text = _run(digidialog, "epj", "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "appointments" in help_text.stdout

    adapter = _run(python, "-c", "from digidialog.adapters import registry; "
                   "print(registry.load('gerica').adapter_class.__name__)")
    assert adapter.stdout.strip() == "GericaAdapter", adapter.stderr

    mock = _run(digidialog, "mock-epj", "--vendor", "gerica")
    assert mock.returncode == 1
    assert mock.stderr.startswith("error: the gerica mock needs the mock extra: "
                                  "pip install 'digidialog-gerica[mock]'")
    assert mock.stderr.count("\n") == 1
