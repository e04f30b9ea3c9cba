"""The shipped example configuration loads, and shows every key daemon.md names."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from digidialog.daemon.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "digidialog.example.toml"


def named_variables() -> set[str]:
    """The environment variables the example reads its secrets from (every ``{ env = ... }``)."""

    def walk(value: Any) -> set[str]:
        if isinstance(value, dict):
            if set(value) == {"env"}:
                return {value["env"]}
            return set().union(*map(walk, value.values()))
        if isinstance(value, list):
            return set().union(*map(walk, value))
        return set()

    return walk(tomllib.loads(EXAMPLE.read_text("utf-8")))


def test_the_example_loads_with_the_variables_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two municipalities (Gerica, Profil with push credentials), RabbitMQ and PostgreSQL."""
    variables = named_variables()
    assert variables == {"DIGIDIALOG_PG_PASSWORD", "DIGIDIALOG_AMQP_PASSWORD",
                         "GERICA_PASSWORD", "PROFIL_PASSWORD", "PROFIL_PUSH_PASSWORD"}
    for name in variables:
        monkeypatch.setenv(name, f"value-of-{name}")
    config = load_config(EXAMPLE)

    assert config.store.url.startswith("postgresql+psycopg://")
    assert config.portal.transport == "amqp"
    assert config.portal.connection_url() == (
        "amqp://digidialog:value-of-DIGIDIALOG_AMQP_PASSWORD@127.0.0.1:5672")
    gerica, profil = config.municipalities
    assert (gerica.vendor, profil.vendor) == ("gerica", "profil")
    assert [s.service_id for s in gerica.services] == ["HSP", "PB"]
    push = profil.epj.adapter_settings().options
    assert push["push_username"] == "profil"
    assert push["push_password"] == "value-of-PROFIL_PUSH_PASSWORD"  # noqa: S105 - from the test
    assert gerica.epj.adapter_settings().options == {"page_size": 200}


def test_a_missing_variable_of_the_example_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without its secrets the example is refused, each variable named."""
    for name in named_variables():
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as refused:
        load_config(EXAMPLE)
    assert len(refused.value.problems) == len(named_variables())
    assert all("is not set" in problem for problem in refused.value.problems)


def test_the_example_uses_every_key_daemon_md_names() -> None:
    """Each section holds the keys the operator surface fixes."""
    data = tomllib.loads(EXAMPLE.read_text("utf-8"))
    assert set(data) == {"store", "portal", "http", "municipality"}
    assert {"url"} <= set(data["store"])
    assert {"transport", "url", "address_prefix", "her_id", "protection"} <= set(data["portal"])
    assert set(data["http"]) == {"listen"}
    first = data["municipality"][0]
    assert {"name", "her_id", "vendor", "statuses", "nightly", "welcome_message",
            "answer_deadline", "epj", "service"} <= set(first)
    assert {"base_url", "username", "password", "timeout"} <= set(first["epj"])
    assert {"vendor_code", "service_id", "her_id"} <= set(first["service"][0])
