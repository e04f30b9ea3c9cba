"""Finding vendor adapters: plugins registered under the entry-point group ``digidialog.adapters``.

A vendor distribution declares, in its ``pyproject.toml``::

    [project.entry-points."digidialog.adapters"]
    gerica = "digidialog_gerica.plugin:plugin"

where ``plugin`` is an :class:`AdapterPlugin`. Each plugin is checked when it
is loaded: it must have the right shape, its name must match its entry point,
and the adapter class it makes must implement every method of
:class:`~digidialog.adapters.contract.EpjAdapter`. Any problem is a
:class:`PluginError` that names the plugin.

This group creates adapters and nothing else: a production daemon loads it.
Vendor mocks register under their own group, ``digidialog.mocks``
(:mod:`digidialog.testing.mocks`), and need the ``mock`` extra.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from digidialog.adapters.contract import EpjAdapter
from digidialog.errors import FatalError

GROUP = "digidialog.adapters"


class PluginError(FatalError):
    """A vendor plugin that cannot be used, and why."""


@dataclass(frozen=True)
class AdapterSettings:
    """How to reach one EPJ: the vendor contract's ``{base}`` and the credentials.

    Username and password serve WS-Security (Gerica) and HTTP Basic (Profil);
    the certificate files serve mutual TLS (CosDoc), and ``ca`` also checks the
    server. ``options`` holds vendor-specific settings.
    """

    base_url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_cert: Path | None = None
    client_key: Path | None = None
    ca: Path | None = None
    timeout: float = 10.0
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class AdapterPlugin(Protocol):
    """What a vendor distribution registers."""

    name: str
    adapter_class: type

    def create(self, settings: AdapterSettings) -> EpjAdapter:
        """An adapter talking to the EPJ described by ``settings``."""
        ...


_CONTRACT_METHODS = [
    name for name, member in inspect.getmembers(EpjAdapter)
    if not name.startswith("_") and (callable(member) or isinstance(member, property))
]


def check_plugin(name: str, plugin: object) -> AdapterPlugin:
    """Validate a loaded plugin, naming it in every error."""
    if not isinstance(plugin, AdapterPlugin):
        missing = [a for a in ("name", "adapter_class", "create")
                   if not hasattr(plugin, a)]
        raise PluginError(f"adapter plugin {name!r} lacks {', '.join(missing) or 'its interface'}")
    if plugin.name != name:
        raise PluginError(
            f"adapter plugin {name!r} calls itself {plugin.name!r}; the names must match"
        )
    cls = plugin.adapter_class
    absent = [m for m in _CONTRACT_METHODS if not hasattr(cls, m)]
    if absent:
        raise PluginError(
            f"adapter plugin {name!r}: {cls.__name__} does not implement {', '.join(absent)}"
        )
    for method in _CONTRACT_METHODS:
        expected = getattr(EpjAdapter, method)
        actual = getattr(cls, method)
        if isinstance(expected, property) != isinstance(actual, property):
            raise PluginError(
                f"adapter plugin {name!r}: {cls.__name__}.{method} has the wrong kind"
            )
        if callable(expected) and not isinstance(expected, property):
            want = list(inspect.signature(expected).parameters)
            have = list(inspect.signature(actual).parameters)
            if have[: len(want)] != want:
                raise PluginError(
                    f"adapter plugin {name!r}: {cls.__name__}.{method} takes {have}, "
                    f"the contract says {want}"
                )
    return plugin


def _load(entry: EntryPoint) -> AdapterPlugin:
    try:
        plugin = entry.load()
    except Exception as error:
        raise PluginError(
            f"adapter plugin {entry.name!r} ({entry.value}) failed to load: {error}"
        ) from error
    return check_plugin(entry.name, plugin)


def available() -> list[str]:
    """Names of every installed adapter plugin."""
    return sorted({e.name for e in entry_points(group=GROUP)})


def load(name: str) -> AdapterPlugin:
    """The checked plugin for vendor ``name``."""
    matches = [e for e in entry_points(group=GROUP) if e.name == name]
    if not matches:
        known = ", ".join(available()) or "none installed"
        raise PluginError(f"no adapter plugin named {name!r} (installed: {known})")
    if len(matches) > 1:
        raise PluginError(f"adapter plugin {name!r} is registered by more than one distribution")
    return _load(matches[0])
