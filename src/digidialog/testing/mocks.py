"""Finding vendor mocks: plugins registered under the entry-point group ``digidialog.mocks``.

A vendor distribution declares, beside its adapter, in its ``pyproject.toml``::

    [project.entry-points."digidialog.mocks"]
    gerica = "digidialog_gerica.mock.plugin:plugin"

    [project.optional-dependencies]
    mock = ["digidialog[mock]"]

where ``plugin`` is a :class:`MockPlugin`: it makes the vendor's
:class:`~digidialog.testing.harness.ConformanceHarness`, the one control API
every mock offers. The mocks need test machinery (pytest-httpserver,
werkzeug, and whatever the vendor's mock adds) that a production install does
not carry: without the ``mock`` extra, :func:`load` raises
:class:`MockUnavailable` naming the extra to install. This module itself
imports nothing beyond the core, so the CLI can say so.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from datetime import date
from importlib.metadata import EntryPoint, entry_points
from typing import Protocol, cast, runtime_checkable

from digidialog.adapters.registry import AdapterSettings
from digidialog.errors import FatalError
from digidialog.testing.harness import ConformanceHarness, add_example_changes

GROUP = "digidialog.mocks"


class MockUnavailable(FatalError):
    """A vendor mock that cannot be used here, and why (not installed, an extra missing)."""


@runtime_checkable
class MockPlugin(Protocol):
    """What a vendor distribution registers under ``digidialog.mocks``."""

    name: str

    def harness(self, *, seed_citizens: int = 0, first_day: date | None = None
                ) -> ConformanceHarness:
        """A harness around a fresh mock holding ``seed_citizens`` seeded citizens (their
        visits around ``first_day``, today by default); not started."""
        ...


def available() -> list[str]:
    """Names of every installed vendor mock."""
    return sorted({e.name for e in entry_points(group=GROUP)})


def _distribution(entry: EntryPoint) -> str:
    dist = entry.dist
    return dist.name if dist is not None else f"digidialog-{entry.name}"


def _load(entry: EntryPoint) -> MockPlugin:
    try:
        plugin = entry.load()
    except ModuleNotFoundError as error:
        missing = (error.name or "a module").partition(".")[0]
        raise MockUnavailable(
            f"the {entry.name} mock needs the mock extra: "
            f"pip install '{_distribution(entry)}[mock]' ({missing} is not installed)"
        ) from None
    except Exception as error:
        raise MockUnavailable(
            f"mock plugin {entry.name!r} ({entry.value}) failed to load: {error}"
        ) from error
    if not isinstance(plugin, MockPlugin):
        raise MockUnavailable(f"mock plugin {entry.name!r} lacks its name or harness()")
    if plugin.name != entry.name:
        raise MockUnavailable(
            f"mock plugin {entry.name!r} calls itself {plugin.name!r}; the names must match"
        )
    return plugin


def load(name: str) -> MockPlugin:
    """The checked mock plugin for vendor ``name``."""
    matches = [e for e in entry_points(group=GROUP) if e.name == name]
    if not matches:
        known = ", ".join(available()) or "none installed"
        raise MockUnavailable(f"no vendor mock named {name!r} (installed: {known})")
    if len(matches) > 1:
        raise MockUnavailable(f"mock plugin {name!r} is registered by more than one distribution")
    return _load(matches[0])


_HARNESS_ATTRIBUTES = sorted(ConformanceHarness.__annotations__)
_HARNESS_METHODS = sorted(
    name for name, member in vars(ConformanceHarness).items()
    if not name.startswith("_") and (callable(member) or isinstance(member, property))
)


def check_harness(name: str, harness: object) -> ConformanceHarness:
    """Check that a vendor's harness offers the whole control API, naming what it lacks."""
    kind = type(harness)
    missing = [a for a in _HARNESS_METHODS if not hasattr(kind, a)]
    missing += [a for a in _HARNESS_ATTRIBUTES if a not in dir(harness)]
    if missing:
        raise MockUnavailable(f"the {name} mock's harness lacks {', '.join(missing)}")
    for method in _HARNESS_METHODS:
        expected = getattr(ConformanceHarness, method)
        if isinstance(expected, property):
            continue
        want = list(inspect.signature(expected).parameters)
        have = list(inspect.signature(getattr(kind, method)).parameters)
        if have[: len(want)] != want:
            raise MockUnavailable(f"the {name} mock's harness: {method} takes {have}, "
                                  f"the control API says {want}")
    return cast(ConformanceHarness, harness)


def harness(name: str, *, seed_citizens: int = 0, first_day: date | None = None
            ) -> ConformanceHarness:
    """Vendor ``name``'s harness around a fresh mock (not started), checked."""
    made = load(name).harness(seed_citizens=seed_citizens, first_day=first_day)
    return check_harness(name, made)


def start(name: str, *, seed_citizens: int = 20, first_day: date | None = None,
          example_changes: bool = False, host: str = "127.0.0.1", port: int = 0
          ) -> ConformanceHarness:
    """Make and start vendor ``name``'s mock; with ``example_changes`` its change feed
    starts with a staff message, a visit done and a cancellation decided.

    Anything started is stopped again when starting fails part-way.
    """
    started = harness(name, seed_citizens=seed_citizens, first_day=first_day)
    try:
        started.start(host=host, port=port)
        if example_changes:
            add_example_changes(started, first_day)
    except BaseException:
        started.stop()
        raise
    return started


def stop_all(harnesses: Iterable[ConformanceHarness]) -> None:
    """Stop every harness, even when stopping one of them fails (the first error is raised)."""
    failure: BaseException | None = None
    for harness in harnesses:
        try:
            harness.stop()
        except BaseException as error:  # the others must still be stopped
            failure = failure or error
    if failure is not None:
        raise failure


def connection_details(settings: AdapterSettings) -> dict[str, str]:
    """What a client needs to reach a mock, as ``digidialog mock-epj`` prints it."""
    details = {"base_url": settings.base_url}
    for key in ("username", "password", "client_cert", "client_key", "ca"):
        value = getattr(settings, key)
        if value is not None:
            details[key] = str(value)
    details.update({key: str(value) for key, value in settings.options.items()})
    return details
