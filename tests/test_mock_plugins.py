"""The ``digidialog.mocks`` entry-point group: each vendor's mock found and checked, and every
problem named (an unknown vendor, a plugin that fails to load, a harness short of a lever)."""

from __future__ import annotations

from typing import Any

import pytest

from digidialog.testing import mocks
from digidialog.testing.mocks import MockUnavailable, check_harness


def test_every_vendor_registers_a_mock_with_the_whole_control_api() -> None:
    """The three vendors' mocks are installed; each harness passes the check, not started."""
    assert {"gerica", "profil", "cosdoc"} <= set(mocks.available())
    for name in ("gerica", "profil", "cosdoc"):
        assert mocks.load(name).name == name
        harness = mocks.harness(name, seed_citizens=1)
        assert harness.vendor == name


class _Entry:
    """An entry point as importlib.metadata gives it, loading what it is told to."""

    def __init__(self, name: str, loads: Any) -> None:
        self.name, self.value, self.dist, self._loads = name, f"{name}_pkg.mock:plugin", None, loads

    def load(self) -> Any:
        if isinstance(self._loads, BaseException):
            raise self._loads
        return self._loads


class _Plugin:
    def __init__(self, name: str) -> None:
        self.name = name

    def harness(self, *, seed_citizens: int = 0, first_day: Any = None) -> Any:
        return object()


def _installed(monkeypatch: pytest.MonkeyPatch, *entries: _Entry) -> None:
    monkeypatch.setattr(mocks, "entry_points", lambda group: list(entries))


def test_loading_problems_name_the_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown, missing its extra, broken, misnamed, or not a plugin: each a one-line reason."""
    missing = ModuleNotFoundError("No module named 'werkzeug.wrappers'", name="werkzeug.wrappers")
    _installed(monkeypatch, _Entry("acme", missing), _Entry("broken", ValueError("bad")),
               _Entry("other", _Plugin("someone")), _Entry("shape", object()))
    with pytest.raises(MockUnavailable, match=r"no vendor mock named 'nope' \(installed: acme, "):
        mocks.load("nope")
    with pytest.raises(MockUnavailable, match=r"^the acme mock needs the mock extra: pip install "
                       r"'digidialog-acme\[mock\]' \(werkzeug is not installed\)$"):
        mocks.load("acme")
    with pytest.raises(MockUnavailable, match=r"'broken' .* failed to load: bad"):
        mocks.load("broken")
    with pytest.raises(MockUnavailable, match="'other' calls itself 'someone'"):
        mocks.load("other")
    with pytest.raises(MockUnavailable, match="'shape' lacks its name or harness"):
        mocks.load("shape")


def test_a_harness_short_of_the_control_api_is_refused() -> None:
    """A harness missing a lever, or taking other parameters, is named with what is wrong."""
    complete = type(mocks.harness("gerica"))

    def write_staff_message(self: Any, citizen: str, text: str) -> str:  # renamed, too few
        return ""

    lacking = type("Lacking", (), {k: v for k, v in vars(complete).items()
                                   if not k.startswith("__") and k != "delivered_messages"})
    state = vars(mocks.harness("gerica"))
    short = lacking.__new__(lacking)
    short.__dict__.update(state)
    with pytest.raises(MockUnavailable, match=r"^the acme mock's harness lacks delivered_messa"):
        check_harness("acme", short)
    wrong = type("Wrong", (complete,), {"write_staff_message": write_staff_message})
    harness = wrong.__new__(wrong)
    harness.__dict__.update(state)
    with pytest.raises(MockUnavailable, match=r"write_staff_message takes \['self', 'citizen'"):
        check_harness("acme", harness)
