"""Secrets in the configuration: read from the environment, named when missing, never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr

from digidialog.daemon.config import ConfigError, load_config
from digidialog.daemon.secrets import is_secret_key, resolve_secrets

CONFIG = """
[store]
url = "postgresql+psycopg://digidialog@127.0.0.1/dd"
password = { env = "TEST_PG_PASSWORD" }

[portal]
transport = "amqp"
url = "amqp://127.0.0.1:5672"
username = "digidialog"
password = { env = "TEST_AMQP_PASSWORD" }
her_id = "100000"

[[municipality]]
name = "Fjordvik kommune"
her_id = "1000011"
vendor = "profil"
[municipality.epj]
base_url = "http://127.0.0.1:8082"
username = "digidialog"
password = { env = "TEST_PROFIL_PASSWORD" }
push_username = "profil"
push_password = { env = "TEST_PUSH_PASSWORD" }
api_secret = "literal-secret"
"""

VARIABLES = {
    "TEST_PG_PASSWORD": "pg-geheim-1",
    "TEST_AMQP_PASSWORD": "amqp-geheim-2",
    "TEST_PROFIL_PASSWORD": "profil-geheim-3",
    "TEST_PUSH_PASSWORD": "push-geheim-4",
}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The configuration above, written to a file."""
    path = tmp_path / "digidialog.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_secret_keys_are_password_and_names_ending_in_password_or_secret() -> None:
    """Which keys may come from the environment."""
    assert all(map(is_secret_key, ["password", "push_password", "client_secret", "PASSWORD"]))
    assert not any(map(is_secret_key, ["username", "password_file", "secrets_dir", "url"]))


def test_secrets_are_read_from_the_environment(config_file: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``{ env = NAME }`` becomes the variable's value, as a SecretStr."""
    for name, value in VARIABLES.items():
        monkeypatch.setenv(name, value)
    config = load_config(config_file)
    epj = config.municipalities[0].epj
    assert isinstance(epj.password, SecretStr)
    assert epj.password.get_secret_value() == "profil-geheim-3"
    assert isinstance(epj.options["push_password"], SecretStr)
    assert isinstance(epj.options["api_secret"], SecretStr)
    settings = epj.adapter_settings()
    assert settings.password == VARIABLES["TEST_PROFIL_PASSWORD"]
    assert settings.options == {"push_username": "profil", "push_password": "push-geheim-4",
                                "api_secret": "literal-secret"}
    assert config.portal.connection_url() == "amqp://digidialog:amqp-geheim-2@127.0.0.1:5672"
    assert config.store.connection_url() == (
        "postgresql+psycopg://digidialog:pg-geheim-1@127.0.0.1/dd")


def test_secrets_never_appear_in_reprs_dumps_or_logs(config_file: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """repr, str, a JSON dump and a logged config hold none of the secret values."""
    for name, value in VARIABLES.items():
        monkeypatch.setenv(name, value)
    config = load_config(config_file)
    with structlog.testing.capture_logs() as logs:
        structlog.get_logger("test").info("config_loaded", config=repr(config))
    shown = [repr(config), str(config), config.model_dump_json(), json.dumps(logs)]
    for text in shown:
        for secret in [*VARIABLES.values(), "literal-secret"]:
            assert secret not in text


def test_a_missing_variable_names_the_key_and_the_variable(
        config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each unset variable is one line; the rest of the file is still checked."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEST_PUSH_PASSWORD", "")
    config_file.write_text(CONFIG.replace('"http://127.0.0.1:8082"', '"nowhere"'),
                           encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(config_file)
    assert refused.value.problems == (
        "store.password: the environment variable TEST_PG_PASSWORD is not set",
        "portal.password: the environment variable TEST_AMQP_PASSWORD is not set",
        "municipality[1].epj.password: the environment variable TEST_PROFIL_PASSWORD is not set",
        "municipality[1].epj.push_password: the environment variable TEST_PUSH_PASSWORD is empty",
        "municipality[1].epj.base_url: not a URL",
    )


def test_env_tables_are_only_for_secrets_and_have_one_shape() -> None:
    """``{ env = ... }`` under an ordinary key, or a malformed one, is named."""
    data = {
        "portal": {"her_id": {"env": "HER_ID"}, "password": {"env": "X", "default": "y"}},
        "municipality": [{"epj": {"token_secret": {"env": 5}, "nested": {"env": "A"}}}],
    }
    resolution = resolve_secrets(data, environ={})
    assert resolution.problems == [
        "portal.her_id: only secrets (keys ending in password or secret) may be read from "
        "the environment",
        'portal.password: a secret from the environment is written { env = "NAME" }',
        'municipality[1].epj.token_secret: a secret from the environment is written '
        '{ env = "NAME" }',
        "municipality[1].epj.nested: only secrets (keys ending in password or secret) may be "
        "read from the environment",
    ]
