"""``digidialog proxy``: registering, listing and withdrawing a municipality's proxies."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from digidialog.cli.main import app
from digidialog.store import Store
from digidialog.testing import samples

CITIZEN = samples.CITIZEN.id
RELATIVE = samples.RELATIVE.id

CONFIG = """
[store]
url = "sqlite:///{db}"

[portal]
transport = "embedded"
her_id = "100000"

[[municipality]]
name = "Eksempel kommune"
her_id = "1000001"
vendor = "gerica"
proxies = "register"

[municipality.epj]
base_url = "http://127.0.0.1:8081"
username = "digidialog"
password = "literal"

[[municipality.service]]
vendor_code = "HSP"
her_id = "1000002"
"""


def config_in(tmp_path: Path) -> Path:
    """A configuration file whose store lives in ``tmp_path``."""
    path = tmp_path / "digidialog.toml"
    path.write_text(CONFIG.format(db=tmp_path / "digidialog.db"), encoding="utf-8")
    return path


def test_a_proxy_is_registered_listed_and_withdrawn(tmp_path: Path) -> None:
    """What is added is held in the store; national ids are masked in the table."""
    config = str(config_in(tmp_path))
    runner = CliRunner()
    added = runner.invoke(app, [
        "proxy", "add", CITIZEN, RELATIVE, "--municipality", "1000001", "--given-name", "Roland",
        "--family-name", "Gundersen", "--scope", "appointments_and_practitioners",
        "--valid-from", "2026-01-01", "--valid-to", "2026-12-31", "--config", config])
    assert added.exit_code == 0, added.output
    assert CITIZEN not in added.output and RELATIVE not in added.output
    listed = runner.invoke(app, ["proxy", "list", CITIZEN, "--municipality", "1000001",
                                 "--json", "--config", config])
    assert listed.exit_code == 0, listed.output
    [proxy] = json.loads(listed.output)
    assert proxy["scope"] == "appointments_and_practitioners"
    assert proxy["valid_to"] == "2026-12-31"
    with Store.open(f"sqlite:///{tmp_path / 'digidialog.db'}") as store:
        assert len(store.proxies.of("1000001", CITIZEN)) == 1
    removed = runner.invoke(app, ["proxy", "remove", CITIZEN, RELATIVE, "--municipality",
                                  "1000001", "--config", config])
    assert removed.exit_code == 0, removed.output
    again = runner.invoke(app, ["proxy", "remove", CITIZEN, RELATIVE, "--municipality",
                                "1000001", "--config", config])
    assert again.exit_code == 1
    assert "no such proxy" in again.output


def test_a_proxy_that_cannot_be_is_refused_with_the_reason(tmp_path: Path) -> None:
    """A period that ends before it starts, a bad national id, an unknown municipality."""
    config = str(config_in(tmp_path))
    runner = CliRunner()
    base = ["proxy", "add", CITIZEN, RELATIVE, "--given-name", "R", "--family-name", "G",
            "--config", config]
    backwards = runner.invoke(app, [*base, "--municipality", "1000001",
                                    "--valid-from", "2026-05-01", "--valid-to", "2026-04-01"])
    assert backwards.exit_code == 1
    assert "valid_to is before valid_from" in backwards.output
    elsewhere = runner.invoke(app, [*base, "--municipality", "9999999"])
    assert elsewhere.exit_code == 1
    assert "not a municipality of the configuration" in elsewhere.output
    bad_id = runner.invoke(app, ["proxy", "add", CITIZEN, "12345678901", "--given-name", "R",
                                 "--family-name", "G", "--municipality", "1000001",
                                 "--config", config])
    assert bad_id.exit_code == 1
    assert "the proxy is not valid" in bad_id.output
