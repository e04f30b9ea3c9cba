"""Reading the daemon's TOML configuration (daemon.md) into a checked :class:`DaemonConfig`.

Which file: ``--config FILE`` when given, else ``$DIGIDIALOG_CONFIG``, else
``./digidialog.toml``. With no file at all, :func:`embedded_default` gives the
embedded default (SQLite ``sqlite:///digidialog.db``, the embedded transport)
for the demo and local runs.

A bad file is refused before anything starts with a :class:`ConfigError`
listing every problem, one per line, each as the key's path and the reason::

    municipality[1].epj.base_url: not a URL

Paths count list entries from 1, as operators count the ``[[municipality]]``
and ``[[municipality.service]]`` tables in their file. Relative file paths
(certificates) are read from the configuration file's folder; a relative
SQLite path stays relative to the working directory, as SQLAlchemy reads it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from digidialog.daemon.config_fields import BASE_DIR, ERROR_TYPE, redact_url
from digidialog.daemon.config_models import (
    DEFAULT_LISTEN,
    DEFAULT_STORE_URL,
    DaemonConfig,
    EpjConfig,
    HttpConfig,
    MunicipalityConfig,
    PortalConfig,
    ServiceConfig,
    StoreConfig,
)
from digidialog.daemon.secrets import key_path, resolve_secrets
from digidialog.errors import FatalError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_FILE",
    "ConfigError",
    "DaemonConfig",
    "EpjConfig",
    "HttpConfig",
    "MunicipalityConfig",
    "PortalConfig",
    "ServiceConfig",
    "StoreConfig",
    "config_path",
    "embedded_default",
    "load_config",
    "parse_config",
    "redact_url",
]

CONFIG_ENV = "DIGIDIALOG_CONFIG"
DEFAULT_FILE = Path("digidialog.toml")
EMBEDDED_SOURCE = "<embedded default>"
DEFAULT_PORTAL_HER_ID = "100000"


class ConfigError(FatalError):
    """A configuration that cannot be used: the file, then every problem on its own line."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        super().__init__("\n".join([f"{source}: refused ({count})", *self.problems]))


class _Environment(BaseSettings):
    """The environment variables that choose the configuration (``DIGIDIALOG_CONFIG``)."""

    model_config = SettingsConfigDict(env_prefix="DIGIDIALOG_", extra="ignore",
                                      env_ignore_empty=True)

    config: Path | None = None


def config_path(explicit: Path | None = None) -> Path | None:
    """The file ``--config`` means: ``explicit``, ``$DIGIDIALOG_CONFIG``, ``./digidialog.toml``.

    None when none is given and ``./digidialog.toml`` does not exist (the
    caller may then use :func:`embedded_default`).
    """
    if explicit is not None:
        return explicit
    from_environment = _Environment().config
    if from_environment is not None:
        return from_environment
    return DEFAULT_FILE if DEFAULT_FILE.is_file() else None


def load_config(path: Path | None = None) -> DaemonConfig:
    """Read and check the file :func:`config_path` chooses, or raise :class:`ConfigError`."""
    chosen = config_path(path)
    if chosen is None:
        raise ConfigError(str(DEFAULT_FILE), [
            f"no configuration file: give --config FILE, set {CONFIG_ENV}, "
            f"or create ./{DEFAULT_FILE}"])
    named_by = f" (named by {CONFIG_ENV})" if path is None and chosen != DEFAULT_FILE else ""
    try:
        with chosen.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(str(chosen), [f"no such file{named_by}"]) from None
    except OSError as error:
        raise ConfigError(str(chosen), [f"cannot be read{named_by}: {error.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(chosen), ["not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(chosen), [f"not valid TOML: {error}"]) from None
    return parse_config(data, source=str(chosen), base_dir=chosen.resolve().parent)


def parse_config(data: Mapping[str, Any], *, source: str = "<configuration>",
                 base_dir: Path | None = None) -> DaemonConfig:
    """Check an already-parsed configuration (TOML tables as dicts); secrets read from the env."""
    resolution = resolve_secrets(data)
    problems = list(resolution.problems)
    config: DaemonConfig | None = None
    try:
        config = DaemonConfig.model_validate(
            resolution.data, context={BASE_DIR: base_dir or Path.cwd()})
    except ValidationError as error:
        problems.extend(describe(e) for e in error.errors())
    problems.extend(cross_check(resolution.data))
    if problems or config is None:
        raise ConfigError(source, list(dict.fromkeys(problems)))
    return config


def embedded_default(municipalities: Sequence[Mapping[str, Any] | MunicipalityConfig], *,
                     store_url: str = DEFAULT_STORE_URL,
                     portal_her_id: str = DEFAULT_PORTAL_HER_ID,
                     listen: str = DEFAULT_LISTEN) -> DaemonConfig:
    """The configuration used without a file: SQLite store, embedded transport.

    ``municipalities`` are ``[[municipality]]`` tables (as dicts, or already
    checked); the demo points them at the mock vendors it started.
    """
    tables = [m.model_dump(by_alias=True) if isinstance(m, BaseModel) else dict(m)
              for m in municipalities]
    return parse_config({
        "store": {"url": store_url},
        "portal": {"transport": "embedded", "her_id": portal_her_id},
        "http": {"listen": listen},
        "municipality": tables,
    }, source=EMBEDDED_SOURCE)


_PYDANTIC_REASONS = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "string_type": "expected a string",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "dict_type": "expected a table",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
}


def describe(error: ErrorDetails) -> str:
    """One pydantic error as ``key.path: reason``, in the operator's words."""
    where = key_path(tuple(error["loc"])) or "(top level)"
    if error["type"] == ERROR_TYPE:
        reason = error["msg"]
    elif error["type"] == "literal_error":
        reason = f"expected {error.get('ctx', {}).get('expected', 'another value')}"
    else:
        reason = _PYDANTIC_REASONS.get(error["type"], error["msg"])
    return f"{where}: {reason}"


def cross_check(data: Mapping[str, Any]) -> list[str]:
    """Rules between entries: unique municipality HER-ids, unique service codes per municipality.

    Read from the raw tables so that they are reported even when another key is wrong.
    """
    problems: list[str] = []
    municipalities = data.get("municipality")
    if not isinstance(municipalities, list):
        return problems
    portal = data.get("portal")
    portal_her_id = _as_text(portal.get("her_id")) if isinstance(portal, Mapping) else None
    seen_her_ids: dict[str, int] = {}
    for index, municipality in enumerate(municipalities):
        if not isinstance(municipality, Mapping):
            continue
        her_id = _as_text(municipality.get("her_id"))
        if her_id is not None:
            if her_id == portal_her_id:
                problems.append(f"municipality[{index + 1}].her_id: {her_id} is the portal's "
                                "HER-id")
            elif her_id in seen_her_ids:
                problems.append(f"municipality[{index + 1}].her_id: {her_id} is already "
                                f"municipality[{seen_her_ids[her_id] + 1}]'s HER-id")
            seen_her_ids.setdefault(her_id, index)
        problems.extend(_unique_service_codes(index, municipality.get("service")))
    return problems


def _unique_service_codes(municipality_index: int, services: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(services, list):
        return problems
    seen: dict[str, int] = {}
    for index, service in enumerate(services):
        code = _as_text(service.get("vendor_code")) if isinstance(service, Mapping) else None
        if code is None:
            continue
        if code in seen:
            problems.append(f"municipality[{municipality_index + 1}].service[{index + 1}]"
                            f".vendor_code: {code!r} is already service[{seen[code] + 1}]'s")
        seen.setdefault(code, index)
    return problems


def _as_text(value: Any) -> str | None:
    """A code as text (TOML integers included), None when it is neither."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else None
