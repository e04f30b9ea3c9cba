"""The crash run's own arithmetic: a checker that cannot see a loss proves nothing."""

from __future__ import annotations

from digidialog.testing.crash.logscan import Personal, scan
from digidialog.testing.crash.report import Report
from digidialog.testing.crash.traffic import count

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
    clean = Report(seed=1, kills=3, incarnations=4, vendors=("gerica",), daemons=1,
                   traffic_seconds=10, units=30, drain_seconds=2.0,
                   counts=[count("things", [("a", 1, 1)])], exits={"daemon-1": 0})
    assert clean.ok and clean.problems() == []
    assert clean.render().startswith("PASSED: seed 1, lost 0, duplicated 0")
    broken = Report(seed=2, kills=3, incarnations=4, vendors=("gerica",), daemons=1,
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
