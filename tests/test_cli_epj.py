"""``digidialog epj`` against each vendor's mock: domain JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digidialog.cli.main import app
from digidialog.domain.timezone import OSLO
from digidialog.testing.pytest_plugin import MockClient, StartMock

runner = CliRunner()


CONNECTION = {"base_url", "username", "password", "client_cert", "client_key", "ca"}


def _options(client: MockClient) -> list[str]:
    details, options = client.details, ["--url", client.details["base_url"]]
    # Vendor settings such as Profil's event store, where the mock's pushes land.
    options += [f"--option={key}={value}" for key, value in details.items()
                if key not in CONNECTION]
    if "client_cert" in details:
        return [*options, "--client-cert", details["client_cert"], "--client-key",
                details["client_key"], "--ca", details["ca"]]
    return [*options, "--username", client.username, "--password", client.password]


@pytest.mark.parametrize("vendor", ["gerica", "profil", "cosdoc"])
def test_epj_commands_print_domain_json(mock_epj: StartMock, vendor: str) -> None:
    """services, citizens, appointments and changes print the documented JSON shapes."""
    _mock, client = mock_epj(vendor, seed_citizens=2)
    options = ["--vendor", vendor, *_options(client)]
    services = json.loads(runner.invoke(app, ["epj", "services", *options]).stdout)
    assert {"code", "name", "open_for_dialog"} <= set(services[0])
    citizens = json.loads(runner.invoke(app, ["epj", "citizens", *options]).stdout)
    assert len(citizens) == 2
    today = datetime.now(OSLO).date()
    result = runner.invoke(app, [
        "epj", "appointments", *options, "--citizen", citizens[0]["national_id"],
        "--from", (today - timedelta(days=2)).isoformat(),
        "--to", (today + timedelta(days=7)).isoformat(),
    ])
    assert result.exit_code == 0, result.stderr
    appointments = json.loads(result.stdout)
    assert appointments
    assert {"uid", "series", "status", "start", "end", "service_id", "employees",
            "cancellation_reason", "recurrence"} <= set(appointments[0])
    assert appointments[0]["start"][-6] in "+-"  # an explicit offset
    changes = json.loads(runner.invoke(app, ["epj", "changes", *options]).stdout)
    assert set(changes) == {"events", "checkpoint"}


def test_epj_reports_refused_credentials(mock_epj: StartMock) -> None:
    """Wrong credentials: one line on stderr, exit status 1, no traceback."""
    _mock, client = mock_epj("gerica", seed_citizens=1)
    result = runner.invoke(app, ["epj", "services", "--vendor", "gerica", "--url",
                                 client.details["base_url"], "--username", "x",
                                 "--password", "y"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


def test_epj_names_an_unknown_vendor() -> None:
    """An unknown vendor is named, with the installed ones."""
    result = runner.invoke(app, ["epj", "services", "--vendor", "acme", "--url",
                                 "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "no adapter plugin named 'acme'" in result.stderr
    assert "gerica" in result.stderr


@pytest.mark.parametrize(("vendor", "keys"), [
    ("gerica", {"base_url"}),
    ("cosdoc", {"base_url", "client_cert", "client_key", "ca"}),
])
def test_mock_epj_prints_what_a_client_needs(vendor: str, keys: set[str]) -> None:
    """The runnable mock prints its base URL (and, for CosDoc, three certificate files)."""
    command = [str(Path(sys.executable).with_name("digidialog")), "mock-epj", "--vendor", vendor,
               "--port", "0", "--seed-citizens", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    printed: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            key, _, value = line.strip().partition(": ")
            printed[key] = value
            if line.startswith("Ctrl-C"):
                break
        assert keys <= set(printed)
        assert printed["base_url"].startswith("https://" if vendor == "cosdoc" else "http://")
        # While the mock runs: stopping it removes the files (see test_mock_cli.py).
        for key in keys - {"base_url"}:
            assert Path(printed[key]).is_file()
    finally:
        process.terminate()
        process.wait(timeout=10)
