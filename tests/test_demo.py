"""``digidialog demo`` as people read it: on an 80-column terminal nothing that tells rows
apart is cut, and the answer deadline names the day it falls on."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from typer.testing import CliRunner

from digidialog.cli.demo import due_by, example_title
from digidialog.cli.main import app
from digidialog.domain import answer_deadline
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function
from tests.conftest import example_files, examples_folder

runner = CliRunner()


@pytest.mark.parametrize(
    ("received", "says"),
    [
        (datetime(2026, 12, 4, 10, 0), "by the end of Monday 7 December"),  # a Friday
        (datetime(2026, 12, 7, 23, 59), "by the end of Tuesday 8 December"),
        (datetime(2027, 3, 27, 12, 0), "by the end of Tuesday 30 March"),  # Easter Monday off
        (datetime(2026, 12, 23, 9, 0), "by the end of Thursday 24 December"),
    ],
)
def test_the_deadline_is_the_day_it_ends(received: datetime, says: str) -> None:
    """answer_deadline is 00:00 of the day after; shown, it is the end of the day before."""
    assert due_by(answer_deadline(received.replace(tzinfo=OSLO))) == says


def test_example_titles_keep_what_tells_files_apart() -> None:
    """The shared process prefix and the distinguishing title, underscores as spaces."""
    assert example_title(
        "DIALOG_INNBYGGER_EKONTAKT_1.2__Henvendelse_-_Svar_helsepersonell_-_"
        "Attest_kan_ikke_utstedes.xml") == (
        "DIALOG INNBYGGER EKONTAKT 1.2",
        "Henvendelse - Svar helsepersonell - Attest kan ikke utstedes")
    assert example_title("other.xml") == ("", "other.xml")


def _lines(output: str) -> list[str]:
    lines = output.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "…" not in output
    return lines


def test_the_journey_fits_80_columns_without_cutting() -> None:
    """Every line fits; each function name stands whole in its cell; the deadline reads
    as a day."""
    result = runner.invoke(app, ["demo"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    _lines(result.output)
    shown = set(re.findall(r"│ ([a-z_]+)\s+│", result.output))
    journey = {"digital_status_change", "service_overview", "citizen_message", "receipt",
               "service_reply", "planned_appointments_request", "planned_appointments_reply",
               "cancellation_request", "cancellation_reply", "appointment_notice"}
    assert journey <= shown
    assert journey <= {f.value for f in Function}
    assert re.search(r"by the end of [A-Z][a-z]+day \d{1,2} [A-Z][a-z]+", result.output)


def _example_cells(lines: list[str]) -> list[tuple[str, str]]:
    """(process, title) per row of the examples table, wrapped lines joined again."""
    start = next(i for i, line in enumerate(lines) if "Official examples" in line)
    rows: list[tuple[str, str]] = []
    process, title, in_process = "", "", True
    for line in lines[start:]:
        if line.startswith(("├", "┡", "└")):
            if title:
                rows.append((process, title))
            process, title, in_process = "", "", True
            continue
        if not line.startswith("│"):
            continue
        cell = line.split("│")[1][1:].rstrip()
        if cell.startswith("  "):
            if title:
                rows.append((process, title))
            title, in_process = cell.strip(), False
        elif cell and in_process:
            process = f"{process} {cell}".strip()
        elif cell:
            title = f"{title} {cell}"
    return rows


def test_the_examples_fit_80_columns_and_every_title_is_whole() -> None:
    """Each example appears as its process and its full title: nothing cut to a shared
    prefix, as the 70-character names were."""
    folder = examples_folder()
    result = runner.invoke(app, ["demo", "--examples", str(folder)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    rows = _example_cells(_lines(result.output))
    assert rows == [example_title(path.name) for path in example_files()]
