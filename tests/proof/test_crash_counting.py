"""The crash run's own arithmetic: a checker that cannot see a loss proves nothing."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from digidialog.daemon.config_models import DaemonConfig
from digidialog.domain.timezone import OSLO
from digidialog.testing import mocks
from digidialog.testing.crash.config import Site, config_text
from digidialog.testing.crash.logscan import Personal, scan
from digidialog.testing.crash.nightly import nightly_time
from digidialog.testing.crash.report import Report
from digidialog.testing.crash.traffic import count
from digidialog.testing.crash.world import nightly_far_away

CITIZEN = "13116900216"


def test_effects_are_counted_once_lost_or_duplicated_and_repeats_apart() -> None:
    """Zero effects is lost, two is duplicated; a second arrival under the same id is a
    repeat, not a duplicate."""
    counted = count("things", [("a", 1, 1), ("b", 0, 0), ("c", 2, 2), ("d", 1, 3)])
    assert (counted.expected, counted.once, counted.lost, counted.duplicated,
            counted.repeats) == (4, 2, 1, 1, 2)
    assert counted.examples == ("b x0", "c x2")
    assert not counted.ok


def test_a_report_fails_on_any_loss_duplicate_or_unclean_stop() -> None:
    """Lost and duplicated are summed over the kinds; each problem is named."""
    clean = Report(seed=1, kills=3, kills_serving=2, incarnations=4, vendors=("gerica",), daemons=1,
                   traffic_seconds=10, units=30, drain_seconds=2.0,
                   counts=[count("things", [("a", 1, 1)])], exits={"daemon-1": 0})
    assert clean.ok and clean.problems() == []
    assert clean.render().startswith("PASSED: seed 1, lost 0, duplicated 0")
    broken = Report(seed=2, kills=3, kills_serving=2, incarnations=4, vendors=("gerica",),
                    daemons=1,
                    traffic_seconds=10, units=30, drain_seconds=None,
                    counts=[count("things", [("a", 0, 0), ("b", 2, 2)])],
                    exits={"daemon-1": 1}, unanswered=["m1"])
    assert (broken.lost, broken.duplicated, broken.ok) == (1, 1, False)
    text = broken.render()
    assert text.startswith("FAILED: seed 2, lost 1, duplicated 1")
    for expected in ("did not drain", "AppRec never taken in for: m1",
                     "daemon-1 exited 1 on SIGTERM"):
        assert expected in text


def test_the_log_scan_finds_ids_names_and_texts_even_escaped() -> None:
    """A known id, any valid national id, a name (also JSON-escaped), a text marker."""
    personal = Personal(ids={CITIZEN}, names={"Kari Nordmann"})
    lines = [
        '{"event": "ok", "msg_id": "b6cd42ac-21d1-4706-b229-2d2697fcbb4f"}',
        f'{{"event": "oops", "x": "{CITIZEN}"}}',
        '{"event": "oops", "who": "Kari Nordmann"}',
        '{"event": "oops", "text": "Hei, dette er melding-1234."}',
        '{"event": "oops", "who": "P\\u00e5r\\u00f8rende Testesen"}',
        "12345678901 is no national id",
    ]
    personal.names.add("Pårørende Testesen")
    leaks = scan("d", lines, personal)
    assert [(leak.line_number, leak.kind) for leak in leaks] == [
        (2, "national id"), (3, "name"), (4, "message text"), (5, "name")]


def test_the_nightly_time_has_just_passed_and_stays_within_the_day() -> None:
    """The crash run's ``nightly`` is a minute back (so the daemon starts tonight's run as it
    starts), never yesterday's evening just after midnight."""
    assert nightly_time(datetime(2026, 12, 4, 19, 5, 30, tzinfo=OSLO)) == "19:04"
    assert nightly_time(datetime(2026, 12, 4, 0, 0, 30, tzinfo=OSLO)) == "00:00"
    assert nightly_time(datetime(2026, 12, 4, 18, 5, 30, tzinfo=UTC)) == "19:04"


def test_the_configuration_carries_municipality_keys_and_a_nightly_far_away_by_default(
        ) -> None:
    """``nightly`` and ``welcome_message`` go into every ``[[municipality]]``, read back by
    the daemon's own loader; a run without the nightly gets it twelve hours away."""
    harness = mocks.start("gerica", seed_citizens=0)
    try:
        site = Site(harness, "971000001", "971000002", "971000003")
        text = config_text([site], store_url="sqlite:///x.db", amqp_url="amqp://127.0.0.1",
                           portal_her_id="971000004", listen="127.0.0.1:1", shared=Path("."),
                           municipality={"nightly": "19:04", "welcome_message": "Velkommen!"})
    finally:
        harness.stop()
    [municipality] = DaemonConfig.model_validate(tomllib.loads(text)).municipalities
    assert municipality.nightly == time(19, 4)
    assert municipality.welcome_message == "Velkommen!"
    hours, minutes = (int(part) for part in nightly_far_away().split(":"))
    now = datetime.now(OSLO)
    gap = (datetime.combine(now.date(), time(hours, minutes)) - now.replace(tzinfo=None)
           ) % timedelta(days=1)
    assert timedelta(hours=11, minutes=58) < gap < timedelta(hours=12, minutes=1)
