"""The configuration file a crash run hands each ``digidialog run``: what operators write.

One ``[[municipality]]`` per vendor mock, all on one PostgreSQL schema and one
broker; the HTTP port is fixed per daemon, so that a restarted daemon is found
where Profil pushes its events. Everything else is the operators' contract
(``daemon.md``): nothing here reaches into the daemon.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digidialog.testing.harness import ConformanceHarness

PUSH_USERNAME = "profil-push"
PUSH_PASSWORD = "crash-push-secret"  # noqa: S105 - a test credential


@dataclass(frozen=True)
class Site:
    """One municipality of the run: its vendor mock and its HER-ids."""

    harness: ConformanceHarness
    municipality: str
    """Level-1 HER-id: the daemon consumes ``<municipality>_async``."""
    service: str
    """Level-2 HER-id of the first open service."""
    second_service: str
    """Level-2 HER-id of the second open service."""
    citizens: tuple[str, ...] = ()
    epj_options: Mapping[str, object] = field(default_factory=dict)
    """Extra ``[municipality.epj]`` keys (adapter call policy, ...)."""

    @property
    def vendor(self) -> str:
        """The adapter's entry-point name."""
        return self.harness.vendor

    def push_path(self) -> str:
        """Where a pushing vendor (Profil) calls the daemon, under ``/epj/<her_id>/``."""
        return f"/epj/{self.municipality}/ProfilNotify"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))


def config_text(sites: Sequence[Site], *, store_url: str, amqp_url: str, portal_her_id: str,
                listen: str, shared: Path, engine: Mapping[str, object] | None = None,
                municipality: Mapping[str, object] | None = None) -> str:
    """The TOML of one daemon serving every site. ``shared`` holds the files every daemon
    of the world shares: Profil's event store, which the push endpoint of whichever daemon
    Profil reaches writes and every daemon's feed reads (a killed daemon's stored events
    are not stranded; SQLite shares a file between processes of one host, not between
    hosts). ``engine`` is the ``[engine]`` section (timings), when given; ``municipality``
    holds further keys of every ``[[municipality]]`` (``nightly``, ``welcome_message``)."""
    lines = [
        "[store]", f"url = {json.dumps(store_url)}",
        "[portal]", 'transport = "amqp"', f"url = {json.dumps(amqp_url)}",
        f'her_id = "{portal_her_id}"',
        "[http]", f"listen = {json.dumps(listen)}",
    ]
    if engine:
        lines.append("[engine]")
        lines += [f"{key} = {_value(value)}" for key, value in engine.items()]
    for site in sites:
        settings = site.harness.settings()
        lines += [
            "[[municipality]]", f'name = "Kommune {site.municipality}"',
            f'her_id = "{site.municipality}"', f'vendor = "{site.vendor}"',
            'statuses = ["planned", "assigned", "cancelled", "completed"]',
            *(f"{key} = {_value(value)}" for key, value in (municipality or {}).items()),
            "[municipality.epj]", f"base_url = {json.dumps(settings.base_url)}",
        ]
        for key in ("username", "password", "client_cert", "client_key", "ca"):
            value = getattr(settings, key)
            if value is not None:
                lines.append(f"{key} = {json.dumps(str(value))}")
        options: dict[str, object] = {**settings.options, **site.epj_options}
        if site.vendor == "profil":
            options.update(push_username=PUSH_USERNAME, push_password=PUSH_PASSWORD,
                           event_store=str(shared / f"profil-{site.municipality}.sqlite3"))
        lines += [f"{key} = {_value(value)}" for key, value in options.items()]
        for code, her_id in ((site.harness.open_service(), site.service),
                             (site.harness.second_open_service(), site.second_service)):
            lines += ["[[municipality.service]]", f'vendor_code = "{code}"',
                      f'her_id = "{her_id}"']
    return "\n".join(lines) + "\n"
