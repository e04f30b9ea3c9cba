"""``digidialog epj`` takes the password from the environment, out of sight of ``ps``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from digidialog.cli.epj import PASSWORD_VARIABLE
from digidialog.cli.main import app
from digidialog.testing.pytest_plugin import MockClient, StartMock

runner = CliRunner()


@pytest.fixture
def gerica(mock_epj: StartMock) -> MockClient:
    """A running Gerica mock (WS-Security username and password)."""
    _mock, client = mock_epj("gerica", seed_citizens=1)
    return client


def _services(client: MockClient, *options: str) -> list[str]:
    return ["epj", "services", "--vendor", "gerica", "--url", client.details["base_url"],
            "--username", client.username, *options]


def test_password_from_a_named_variable(gerica: MockClient) -> None:
    """--password-env NAME reads the password from NAME; nothing secret on the command line."""
    result = runner.invoke(app, _services(gerica, "--password-env", "GERICA_PASSWORD"),
                           env={"GERICA_PASSWORD": gerica.password, PASSWORD_VARIABLE: None})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)


def test_password_from_the_default_variable(gerica: MockClient) -> None:
    """Without --password or --password-env, DIGIDIALOG_EPJ_PASSWORD is used."""
    result = runner.invoke(app, _services(gerica), env={PASSWORD_VARIABLE: gerica.password})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)


def test_an_explicit_option_wins_over_the_default_variable(gerica: MockClient) -> None:
    """--password (or --password-env) given on the command line beats the default variable."""
    result = runner.invoke(app, _services(gerica, "--password", gerica.password),
                           env={PASSWORD_VARIABLE: "wrong"})
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, _services(gerica, "--password-env", "GERICA_PASSWORD"),
                           env={"GERICA_PASSWORD": gerica.password, PASSWORD_VARIABLE: "wrong"})
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("options", "env", "says"),
    [
        (["--password-env", "NOT_THERE"], {"NOT_THERE": None},
         "error: --password-env NOT_THERE: the variable is not set\n"),
        (["--password-env", "BLANK"], {"BLANK": ""},
         "error: --password-env BLANK: the variable is empty\n"),
        (["--password", "x", "--password-env", "GERICA_PASSWORD"], {"GERICA_PASSWORD": "x"},
         "error: give --password or --password-env, not both\n"),
    ],
    ids=["unset", "empty", "both"],
)
def test_a_password_that_cannot_be_found_is_one_line(
    gerica: MockClient, options: list[str], env: dict[str, str | None], says: str
) -> None:
    """An unset or empty variable, or both options: one line and exit status 1."""
    result = runner.invoke(app, _services(gerica, *options), env=env)
    assert result.exit_code == 1
    assert result.stderr == says
