"""The optional ``[engine]`` section: the timings an operator may tune, checked like the rest."""

from __future__ import annotations

from digidialog.daemon.app import settings_of
from digidialog.daemon.config import parse_config
from tests.daemon.test_config import changed, problems_of, tables


def test_without_the_section_the_engine_keeps_its_defaults() -> None:
    """A job is a daemon's for 60 s; a polled feed is read every 2 s."""
    settings = settings_of(parse_config(tables()))
    assert (settings.lease_seconds, settings.poll_interval) == (60.0, 2.0)


def test_the_section_sets_the_engines_timings() -> None:
    """What the file says reaches the engine."""
    data = changed("engine.lease_seconds", 5)
    data["engine"]["poll_interval"] = 0.5
    settings = settings_of(parse_config(data))
    assert (settings.lease_seconds, settings.poll_interval) == (5.0, 0.5)


def test_a_bad_timing_or_an_unknown_key_is_refused_by_its_name() -> None:
    """Zero, negative or text is no number of seconds; a typo is not silently ignored."""
    assert problems_of(changed("engine.lease_seconds", 0)) == [
        "engine.lease_seconds: not a positive number of seconds"]
    assert problems_of(changed("engine.poll_interval", "fast")) == [
        "engine.poll_interval: not a positive number of seconds"]
    [problem] = problems_of(changed("engine.lease", 5))
    assert problem.startswith("engine.lease:")
