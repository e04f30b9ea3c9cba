"""The configuration file: what a good one gives, and how each kind of mistake is refused."""

from __future__ import annotations

import copy
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from digidialog.adapters import registry
from digidialog.adapters.registry import AdapterSettings
from digidialog.daemon.config import (
    ConfigError,
    DaemonConfig,
    embedded_default,
    parse_config,
    redact_url,
)
from digidialog.domain.appointments import AppointmentStatus
from digidialog.errors import FatalError


def tables() -> dict[str, Any]:
    """A small valid configuration, as the TOML reader gives it."""
    return {
        "portal": {"her_id": "100000"},
        "municipality": [{
            "name": "Eksempel kommune", "her_id": "1000001", "vendor": "gerica",
            "epj": {"base_url": "http://127.0.0.1:8081", "username": "digidialog",
                    "password": "literal"},
            "service": [{"vendor_code": "HSP", "her_id": "1000002"}],
        }],
    }


def problems_of(data: dict[str, Any]) -> list[str]:
    """The problems a configuration is refused with (it must be refused)."""
    with pytest.raises(ConfigError) as refused:
        parse_config(data, source="test.toml")
    return list(refused.value.problems)


def changed(path: str, value: Any) -> dict[str, Any]:
    """The valid configuration with one key (dotted path, list positions as numbers) set."""
    data = tables()
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[last] = value
    return data


def test_a_small_file_gets_the_documented_defaults() -> None:
    """Store, transport, listen address, statuses, nightly time, deadline and service_id."""
    config = parse_config(tables())
    assert config.store.url == "sqlite:///digidialog.db"
    assert config.portal.transport == "embedded"
    assert config.portal.address_prefix == "/amq/queue/"
    assert config.portal.protection == "none"
    assert config.http.address == ("127.0.0.1", 8765)
    (municipality,) = config.municipalities
    assert municipality.statuses == (AppointmentStatus.PLANNED, AppointmentStatus.ASSIGNED,
                                     AppointmentStatus.CANCELLED)
    assert municipality.nightly == time(2, 0)
    assert municipality.answer_deadline == "next-working-day"
    assert municipality.services[0].service_id == "HSP"
    assert municipality.service_by_code("HSP") is municipality.services[0]
    assert municipality.service_by_her_id("1000002") is municipality.services[0]
    assert municipality.service_by_code("PB") is None
    assert config.municipality("1000001") is municipality
    assert config.municipality("9") is None


def test_the_error_names_the_file_and_lists_each_problem_on_its_own_line() -> None:
    """The exact shape: a header with the count, then ``key.path: reason`` per line."""
    data = changed("municipality.0.epj.base_url", "not a url at all")
    with pytest.raises(ConfigError) as refused:
        parse_config(data, source="digidialog.toml")
    assert str(refused.value) == ("digidialog.toml: refused (1 problem)\n"
                                  "municipality[1].epj.base_url: not a URL")
    assert isinstance(refused.value, FatalError)

    data["portal"]["her_id"] = "HER"
    data["municipality"][0]["nightly"] = "2am"
    with pytest.raises(ConfigError) as refused:
        parse_config(data, source="digidialog.toml")
    assert str(refused.value).splitlines() == [
        "digidialog.toml: refused (3 problems)",
        "portal.her_id: not a HER-id (digits only)",
        "municipality[1].nightly: not a time of day (HH:MM, 24-hour)",
        "municipality[1].epj.base_url: not a URL",
    ]


def test_list_positions_count_from_one() -> None:
    """The second [[municipality]] and its first [[municipality.service]] are [2] and [1]."""
    data = tables()
    second = copy.deepcopy(data["municipality"][0])
    second["her_id"] = "2000001"
    second["service"][0]["her_id"] = "x"
    data["municipality"].append(second)
    assert problems_of(data) == ["municipality[2].service[1].her_id: not a HER-id (digits only)"]


@pytest.mark.parametrize(("path", "value", "problem"), [
    ("municipality.0.epj.base_url", "ftp://x", "municipality[1].epj.base_url: "
     "not an http(s) URL (the scheme is 'ftp')"),
    ("municipality.0.epj.base_url", "http://host:port", "municipality[1].epj.base_url: "
     "not a URL"),
    ("municipality.0.epj.base_url", 8081, "municipality[1].epj.base_url: not a URL"),
    ("municipality.0.her_id", "10-01", "municipality[1].her_id: not a HER-id (digits only)"),
    ("municipality.0.her_id", "", "municipality[1].her_id: not a HER-id (digits only)"),
    ("municipality.0.her_id", "1234567890",
     "municipality[1].her_id: not a HER-id (at most 9 digits)"),
    ("municipality.0.her_id", 1.5, "municipality[1].her_id: expected a string"),
    ("municipality.0.vendor", "nosuch", "municipality[1].vendor: no adapter named 'nosuch' is "
     "installed (installed: cosdoc, gerica, profil)"),
    ("municipality.0.statuses", ["planned", "done"], "municipality[1].statuses: 'done' is not "
     "a status (one of planned, assigned, completed, cancelled)"),
    ("municipality.0.statuses", ["planned", "planned"],
     "municipality[1].statuses: a status is listed twice"),
    ("municipality.0.statuses", [], "municipality[1].statuses: name at least one of planned, "
     "assigned, completed, cancelled"),
    ("municipality.0.statuses", "planned", "municipality[1].statuses: expected a list"),
    ("municipality.0.nightly", "24:00",
     "municipality[1].nightly: not a time of day (HH:MM, 24-hour)"),
    ("municipality.0.nightly", "2:00",
     "municipality[1].nightly: not a time of day (HH:MM, 24-hour)"),
    ("municipality.0.answer_deadline", "same-day",
     'municipality[1].answer_deadline: only "next-working-day" is available'),
    ("municipality.0.welcome_message", "  ", "municipality[1].welcome_message: must not be empty"),
    ("municipality.0.name", "", "municipality[1].name: must not be empty"),
    ("municipality.0.epj.timeout", 0, "municipality[1].epj.timeout: "
     "not a positive number of seconds"),
    ("municipality.0.epj.timeout", "10", "municipality[1].epj.timeout: "
     "not a positive number of seconds"),
    ("municipality.0.service.0.vendor_code", " ",
     "municipality[1].service[1].vendor_code: must not be empty"),
    ("municipality.0.service.0.her_id", "abc",
     "municipality[1].service[1].her_id: not a HER-id (digits only)"),
    ("municipality.0.service", {"vendor_code": "HSP"}, "municipality[1].service: expected a list"),
    ("municipality.0.epj", "http://x", "municipality[1].epj: expected a table"),
    ("municipality", {"name": "x"}, "municipality: expected a list"),
    ("municipality", [], "municipality: no [[municipality]]: name at least one"),
    ("portal.her_id", "h", "portal.her_id: not a HER-id (digits only)"),
    ("portal.transport", "http", 'portal.transport: one of "amqp", "embedded"'),
    ("portal.protection", "cms", 'portal.cms: required with protection = "cms": our keys, the '
     "trust store and the party certificate folder"),
    ("portal.protection", "tls", 'portal.protection: one of "none", "cms"'),
    ("portal.url", "amqp://127.0.0.1:5672", "portal.url: the embedded transport takes no URL: "
     "its queues live in the store"),
    ("store.url", "postgresql://db/x", "store.url: not a database URL the store can open "
     "(sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)"),
    ("store.url", "nonsense", "store.url: not a database URL the store can open "
     "(sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)"),
    ("http.listen", "8765", "http.listen: not HOST:PORT"),
    ("http.listen", "127.0.0.1:70000", "http.listen: not HOST:PORT"),
    ("http.listen", ":8765", "http.listen: not HOST:PORT"),
    ("municipality.0.colour", "blue", "municipality[1].colour: unknown key"),
    ("portal.queue", "x", "portal.queue: unknown key"),
    ("extra", {}, "extra: unknown key"),
    ("municipality.0.services", [], "municipality[1].services: unknown key"),
])
def test_each_kind_of_mistake_is_named_with_its_key(path: str, value: Any, problem: str) -> None:
    """One wrong value, one line naming its key and the reason."""
    assert problems_of(changed(path, value)) == [problem]


@pytest.mark.parametrize(("section", "key", "problem"), [
    ("portal", "her_id", "portal.her_id: required"),
    ("municipality.0", "name", "municipality[1].name: required"),
    ("municipality.0", "vendor", "municipality[1].vendor: required"),
    ("municipality.0", "epj", "municipality[1].epj: required"),
    ("municipality.0.epj", "base_url", "municipality[1].epj.base_url: required"),
    ("municipality.0.service.0", "her_id", "municipality[1].service[1].her_id: required"),
    ("", "portal", "portal: required"),
    ("", "municipality", "municipality: no [[municipality]]: name at least one"),
])
def test_a_missing_key_is_named(section: str, key: str, problem: str) -> None:
    """Required keys are reported as ``required``."""
    data = tables()
    node: Any = data
    for part in filter(None, section.split(".")):
        node = node[int(part)] if part.isdigit() else node[part]
    del node[key]
    assert problems_of(data) == [problem]


def test_the_amqp_transport_needs_an_amqp_url() -> None:
    """No URL, or one of another scheme, is refused; amqp:// and amqps:// are taken."""
    data = changed("portal.transport", "amqp")
    assert problems_of(data) == ["portal.url: required with the amqp transport"]
    data["portal"]["url"] = "http://broker:5672"
    assert problems_of(data) == [
        "portal.url: not an AMQP URL (amqp://HOST:PORT or amqps://HOST:PORT)"]
    for url in ("amqp://guest:guest@127.0.0.1:5672", "amqps://broker.example:5671"):
        data["portal"]["url"] = url
        assert parse_config(data).portal.url == url


def test_her_ids_must_be_unique_and_not_the_portals() -> None:
    """Two municipalities on one HER-id, or one on the portal's, are refused."""
    data = tables()
    twin = copy.deepcopy(data["municipality"][0])
    data["municipality"].append(twin)
    third = copy.deepcopy(twin)
    third["her_id"] = 100000
    data["municipality"].append(third)
    assert problems_of(data) == [
        "municipality[2].her_id: 1000001 is already municipality[1]'s HER-id",
        "municipality[3].her_id: 100000 is the portal's HER-id",
    ]


def test_service_codes_are_unique_per_municipality_but_not_across() -> None:
    """The same vendor code twice in one municipality is refused; in two it is fine."""
    data = tables()
    data["municipality"][0]["service"].append({"vendor_code": "HSP", "her_id": "1000003"})
    assert problems_of(data) == [
        "municipality[1].service[2].vendor_code: 'HSP' is already service[1]'s"]
    data = tables()
    other = copy.deepcopy(data["municipality"][0])
    other["her_id"] = "2000001"
    data["municipality"].append(other)
    assert len(parse_config(data).municipalities) == 2


def test_cross_checks_are_reported_beside_other_problems() -> None:
    """A duplicate HER-id is still reported when another key of the file is wrong."""
    data = tables()
    twin = copy.deepcopy(data["municipality"][0])
    twin["vendor"] = "nosuch"
    data["municipality"].append(twin)
    problems = problems_of(data)
    assert "municipality[2].her_id: 1000001 is already municipality[1]'s HER-id" in problems
    assert any(p.startswith("municipality[2].vendor: no adapter named") for p in problems)


def test_numbers_are_taken_where_codes_are_digits() -> None:
    """TOML integers for HER-ids and service codes become their digits."""
    data = changed("municipality.0.her_id", 1000001)
    data["municipality"][0]["service"] = [{"vendor_code": 12, "her_id": 1000002}]
    municipality = parse_config(data).municipalities[0]
    assert municipality.her_id == "1000001"
    assert municipality.services[0].vendor_code == "12"
    assert municipality.services[0].service_id == "12"


def test_a_toml_local_time_is_taken_as_nightly() -> None:
    """``nightly = 02:30:00`` (a TOML time) is as good as ``"02:30"``; seconds are not."""
    assert parse_config(changed("municipality.0.nightly", time(2, 30))
                        ).municipalities[0].nightly == time(2, 30)
    assert problems_of(changed("municipality.0.nightly", time(2, 30, 15))) == [
        "municipality[1].nightly: not a time of day (HH:MM, 24-hour)"]


def test_certificate_paths_are_read_from_the_config_files_folder(tmp_path: Path) -> None:
    """Relative paths resolve beside the file; a missing file and a lone cert are refused."""
    (tmp_path / "certs").mkdir()
    for name in ("client.pem", "client.key", "ca.pem"):
        (tmp_path / "certs" / name).write_text("-----BEGIN-----\n")
    data = tables()
    data["municipality"][0]["epj"].update(
        client_cert="certs/client.pem", client_key="certs/client.key", ca="certs/ca.pem")
    epj = parse_config(data, base_dir=tmp_path).municipalities[0].epj
    assert epj.client_cert == tmp_path / "certs" / "client.pem"
    assert epj.ca == tmp_path / "certs" / "ca.pem"

    del data["municipality"][0]["epj"]["client_key"]
    data["municipality"][0]["epj"]["ca"] = "certs/missing.pem"
    with pytest.raises(ConfigError) as refused:
        parse_config(data, base_dir=tmp_path)
    assert refused.value.problems == (
        "municipality[1].epj.client_key: required with client_cert",
        f"municipality[1].epj.ca: no such file: {tmp_path / 'certs' / 'missing.pem'}",
    )
    del data["municipality"][0]["epj"]["client_cert"]
    data["municipality"][0]["epj"].update(client_key="certs/client.key", ca="certs/ca.pem")
    with pytest.raises(ConfigError) as refused:
        parse_config(data, base_dir=tmp_path)
    assert refused.value.problems == ("municipality[1].epj.client_key: given without client_cert",)


def test_vendor_keys_become_adapter_options() -> None:
    """Keys beyond the common ones reach the adapter as ``AdapterSettings.options``."""
    data = tables()
    data["municipality"][0]["epj"].update(page_size=100, timeout=5)
    settings = parse_config(data).municipalities[0].epj.adapter_settings()
    assert settings == AdapterSettings(base_url="http://127.0.0.1:8081", username="digidialog",
                                       password="literal",  # noqa: S106 - a test credential
                                       timeout=5.0,
                                       options={"page_size": 100})


def test_adapter_settings_make_a_working_adapter() -> None:
    """The settings built from the file are what the installed Gerica plugin takes."""
    municipality = parse_config(tables()).municipalities[0]
    adapter = registry.load(municipality.vendor).create(municipality.epj.adapter_settings())
    try:
        assert adapter.capabilities.vendor == "gerica"
    finally:
        adapter.close()


def test_credentials_kept_apart_from_urls_are_put_in_and_hidden_in_logs() -> None:
    """``connection_url`` merges username/password; ``redact_url`` hides them again."""
    data = tables()
    data["portal"].update(transport="amqp", url="amqp://guest:guest@broker:5672",
                          username="digi dialog",
                          password="p@ss:word")  # noqa: S106 - a test credential
    data["store"] = {"url": "postgresql+psycopg://digidialog@db:5432/dd", "password": "pg/pw"}
    config = parse_config(data)
    assert config.portal.connection_url() == "amqp://digi%20dialog:p%40ss%3Aword@broker:5672"
    assert config.store.connection_url() == "postgresql+psycopg://digidialog:pg%2Fpw@db:5432/dd"
    assert redact_url(config.portal.connection_url() or "") == (
        "amqp://digi%20dialog:***@broker:5672")
    assert "guest" not in repr(config) and "pg/pw" not in repr(config)
    assert parse_config(tables()).store.connection_url() == "sqlite:///digidialog.db"


def test_embedded_default_is_sqlite_and_the_embedded_transport() -> None:
    """Without a file: SQLite in the working directory, queues in the store."""
    municipality = tables()["municipality"][0]
    config = embedded_default([municipality])
    assert isinstance(config, DaemonConfig)
    assert config.store.url == "sqlite:///digidialog.db"
    assert config.portal.transport == "embedded"
    assert config.portal.url is None
    assert config.municipalities[0].her_id == "1000001"
    again = embedded_default(config.municipalities, store_url="sqlite:///demo.db",
                             listen="127.0.0.1:0")
    assert again.municipalities == config.municipalities
    assert again.http.address == ("127.0.0.1", 0)
    with pytest.raises(ConfigError) as refused:
        embedded_default([{**municipality, "vendor": "nosuch"}])
    assert refused.value.source == "<embedded default>"
