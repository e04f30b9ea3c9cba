"""The sections of the configuration file (daemon.md) as frozen, validated models.

Keys and their meaning are fixed by ``daemon.md``; the keys added here are
``[store] password`` and ``[portal] username``/``password`` (credentials kept
out of the URL, so that they can come from the environment), the vendor keys
of ``[municipality.epj]`` beyond the common ones, which are kept as the
adapter's ``options``, the keys of message protection (``[portal.cms]``,
``[municipality.cms]``, :mod:`digidialog.daemon.config_cms`) and the optional
``[engine]`` timings. Unknown keys are
refused everywhere else: a typo must not silently fall back to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic import model_validator as model_check
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from digidialog.adapters.registry import AdapterSettings
from digidialog.daemon.config_cms import CmsConfig, CmsKeysConfig
from digidialog.daemon.config_fields import (
    ClockTime,
    Code,
    ExistingFile,
    HerId,
    HttpUrl,
    ListenAddress,
    NonEmpty,
    Seconds,
    Vendor,
    code,
    problem,
    split_listen,
)
from digidialog.daemon.secrets import is_secret_key
from digidialog.domain.appointments import AppointmentStatus

STORE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql+psycopg"})
DEFAULT_STORE_URL = "sqlite:///digidialog.db"
DEFAULT_LISTEN = "127.0.0.1:8765"
DEFAULT_STATUSES = (AppointmentStatus.PLANNED, AppointmentStatus.ASSIGNED,
                    AppointmentStatus.CANCELLED)


class Section(BaseModel):
    """Base of every section: immutable, unknown keys refused.

    Lists are read under the file's own key names only (``municipality``,
    ``service``), so that a file has one spelling.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")


class StoreConfig(Section):
    """``[store]``: where the engine keeps its state."""

    url: str = Field(default=DEFAULT_STORE_URL, repr=False)
    password: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            driver = None
        if driver not in STORE_DRIVERS:
            raise problem("not a database URL the store can open "
                          "(sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)")
        return value

    def connection_url(self) -> str:
        """The URL to open the store with, the password (if given apart) put in."""
        if self.password is None:
            return self.url
        url = make_url(self.url).set(password=self.password.get_secret_value())
        return url.render_as_string(hide_password=False)


class PortalConfig(Section):
    """``[portal]``: how messages reach Helsenorge."""

    transport: Literal["amqp", "embedded"] = "embedded"
    url: str | None = Field(default=None, validate_default=True, repr=False)
    address_prefix: str = "/amq/queue/"
    her_id: HerId
    protection: Literal["none", "cms"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    cms: CmsConfig | None = Field(default=None, validate_default=True)

    @field_validator("transport", mode="before")
    @classmethod
    def _transport(cls, value: Any) -> Any:
        if value not in ("amqp", "embedded"):
            raise problem('one of "amqp", "embedded"')
        return value

    @field_validator("protection", mode="before")
    @classmethod
    def _protection(cls, value: Any) -> Any:
        if value not in ("none", "cms"):
            raise problem('one of "none", "cms"')
        return value

    @field_validator("cms")
    @classmethod
    def _cms_with_protection(cls, value: CmsConfig | None,
                             info: ValidationInfo) -> CmsConfig | None:
        if value is None and info.data.get("protection") == "cms":
            raise problem('required with protection = "cms": our keys, the trust store and '
                          "the party certificate folder")
        return value

    @field_validator("url")
    @classmethod
    def _fits_transport(cls, value: str | None, info: ValidationInfo) -> str | None:
        transport = info.data.get("transport")
        if transport == "embedded" and value is not None:
            raise problem("the embedded transport takes no URL: its queues live in the store")
        if transport == "amqp":
            if value is None:
                raise problem("required with the amqp transport")
            try:
                parts = urlsplit(value)
                _ = parts.port
            except ValueError:
                parts = None
            if parts is None or parts.scheme not in {"amqp", "amqps"} or not parts.hostname:
                raise problem("not an AMQP URL (amqp://HOST:PORT or amqps://HOST:PORT)")
        return value

    def connection_url(self) -> str | None:
        """The broker URL with ``username``/``password`` (if given apart) put in."""
        if self.url is None or (self.username is None and self.password is None):
            return self.url
        parts = urlsplit(self.url)
        user = self.username if self.username is not None else parts.username or ""
        secret = (self.password.get_secret_value() if self.password is not None
                  else parts.password)
        host = parts.netloc.rpartition("@")[2]
        userinfo = quote(user, safe="") + ("" if secret is None else ":" + quote(secret, safe=""))
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


class HttpConfig(Section):
    """``[http]``: where the health, metrics and push endpoints listen."""

    listen: ListenAddress = DEFAULT_LISTEN

    @property
    def address(self) -> tuple[str, int]:
        """``listen`` as ``(host, port)``."""
        return split_listen(self.listen)


class EngineConfig(Section):
    """``[engine]`` (optional): the engine's timings, for operators who must tune them.

    ``lease_seconds`` is how long a job taken by a daemon is its own: a daemon
    that dies holds its jobs that long before another (or its restart) takes
    them, and each job's lease is renewed as its turn comes, so it bounds one
    job, not a batch. ``poll_interval`` is how often a polled change feed is read.
    """

    lease_seconds: Seconds = 60.0
    poll_interval: Seconds = 2.0


class EpjConfig(Section):
    """``[municipality.epj]``: the adapter's settings; other keys become its ``options``."""

    base_url: HttpUrl
    username: NonEmpty | None = None
    password: SecretStr | None = None
    timeout: Seconds = 10.0
    client_cert: ExistingFile | None = None
    client_key: ExistingFile | None = Field(default=None, validate_default=True)
    ca: ExistingFile | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @model_check(mode="before")
    @classmethod
    def _vendor_keys_into_options(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        common = {k: v for k, v in data.items() if k in cls.model_fields and k != "options"}
        given = data.get("options")
        extra = dict(given) if isinstance(given, Mapping) else {}
        extra.update({k: v for k, v in data.items() if k not in cls.model_fields})
        options = {k: _secret_option(k, v) for k, v in extra.items()}
        return {**common, "options": options}

    @field_validator("client_key")
    @classmethod
    def _key_with_certificate(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        certificate = info.data.get("client_cert")
        if value is None and certificate is not None:
            raise problem("required with client_cert")
        if value is not None and certificate is None and "client_cert" in info.data:
            raise problem("given without client_cert")
        return value

    def adapter_settings(self) -> AdapterSettings:
        """The registry's :class:`AdapterSettings` for this EPJ, secrets revealed to the adapter."""
        return AdapterSettings(
            base_url=self.base_url, username=self.username,
            password=None if self.password is None else self.password.get_secret_value(),
            client_cert=self.client_cert, client_key=self.client_key, ca=self.ca,
            timeout=self.timeout,
            options={k: v.get_secret_value() if isinstance(v, SecretStr) else v
                     for k, v in self.options.items()},
        )


def _secret_option(key: str, value: Any) -> Any:
    if not is_secret_key(key) or isinstance(value, SecretStr):
        return value
    return SecretStr(str(value))


class ServiceConfig(Section):
    """``[[municipality.service]]``: a service open to digital dialog and its HER-id."""

    vendor_code: Code
    service_id: Code
    her_id: HerId

    @model_check(mode="before")
    @classmethod
    def _service_id_defaults_to_vendor_code(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "service_id" not in data and "vendor_code" in data:
            try:
                return {**data, "service_id": code(data["vendor_code"])}
            except PydanticCustomError:
                # The service is refused for its vendor_code; a stand-in keeps that the only line.
                return {**data, "service_id": "?"}
        return data


class MunicipalityConfig(Section):
    """``[[municipality]]``: one municipality, its EPJ and its services."""

    name: NonEmpty
    her_id: HerId
    vendor: Vendor
    statuses: tuple[AppointmentStatus, ...] = DEFAULT_STATUSES
    nightly: ClockTime = time(2, 0)
    welcome_message: NonEmpty | None = None
    answer_deadline: Literal["next-working-day"] = "next-working-day"
    proxies: Literal["portal", "register"] = "portal"
    epj: EpjConfig
    cms: CmsKeysConfig | None = None
    services: tuple[ServiceConfig, ...] = Field(default=(), alias="service")

    @field_validator("statuses", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise problem("expected a list")
        known = [status.value for status in AppointmentStatus]
        for status in value:
            if status not in known:
                raise problem(f"{status!r} is not a status (one of {', '.join(known)})")
        if len(set(value)) != len(value):
            raise problem("a status is listed twice")
        if not value:
            raise problem(f"name at least one of {', '.join(known)}")
        return value

    @field_validator("answer_deadline", mode="before")
    @classmethod
    def _deadline_policy(cls, value: Any) -> Any:
        if value != "next-working-day":
            raise problem('only "next-working-day" is available')
        return value

    @field_validator("proxies", mode="before")
    @classmethod
    def _proxy_policy(cls, value: Any) -> Any:
        if value not in ("portal", "register"):
            raise problem('"portal" (a relative the portal let through may act unless a '
                          'registered proxy says otherwise) or "register" (only registered '
                          'proxies)')
        return value

    def service_by_code(self, vendor_code: str) -> ServiceConfig | None:
        """The configured service with this EPJ code (None: closed for dialog)."""
        return next((s for s in self.services if s.vendor_code == vendor_code), None)

    def service_by_her_id(self, her_id: str) -> ServiceConfig | None:
        """The configured service citizens reach through this level-2 HER-id."""
        return next((s for s in self.services if s.her_id == her_id), None)


class DaemonConfig(Section):
    """The whole configuration file."""

    store: StoreConfig = Field(default_factory=StoreConfig)
    portal: PortalConfig
    http: HttpConfig = Field(default_factory=HttpConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    municipalities: tuple[MunicipalityConfig, ...] = Field(alias="municipality")

    @model_check(mode="before")
    @classmethod
    def _no_municipality_is_a_problem_not_a_missing_key(cls, data: Any) -> Any:
        # An absent list gets the same reason as an empty one, under the file's key name.
        if isinstance(data, Mapping) and "municipality" not in data:
            return {**data, "municipality": []}
        return data

    @field_validator("municipalities")
    @classmethod
    def _at_least_one(cls, value: tuple[MunicipalityConfig, ...]
                      ) -> tuple[MunicipalityConfig, ...]:
        if not value:
            raise problem("no [[municipality]]: name at least one")
        return value

    def municipality(self, her_id: str) -> MunicipalityConfig | None:
        """The municipality with this (level-1) HER-id."""
        return next((m for m in self.municipalities if m.her_id == her_id), None)
