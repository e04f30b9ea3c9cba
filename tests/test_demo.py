"""``digidialog demo`` as people read it: on an 80-column terminal nothing that tells rows
apart is cut, and the answer deadline names the day it falls on."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digidialog.cli.demo import example_title
from digidialog.cli.main import app
from digidialog.demo.report import due_by
from digidialog.domain import answer_deadline
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import decode
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


def test_the_week_runs_end_to_end_against_every_vendor(tmp_path: Path) -> None:
    """Every step of the week passes for Gerica, Profil and CosDoc; the report fits 80
    columns; every message exchanged is in the folder the report names, and each one reads
    back as what its file name says."""
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    _lines(result.output)
    assert "FAILED" not in result.output
    assert re.search(r"by the end of [A-Z][a-z]+day \d{1,2} [A-Z][a-z]+", result.output)
    for vendor in ("gerica", "profil", "cosdoc"):
        files = sorted((tmp_path / "messages" / vendor).glob("*.xml"))
        functions = {f.name.split("-")[2] for f in files}
        assert {"digital_status_change", "digital_status_query", "digital_status_reply",
                "service_overview", "service_notice", "citizen_message", "service_reply",
                "planned_appointments_request", "planned_appointments_reply",
                "cancellation_request", "cancellation_reply", "appointment_notice",
                "receipt"} <= functions
        for file in files:
            assert decode(file.read_bytes()).function.value == file.name.split("-")[2]
    assert (tmp_path / "daemon.log").stat().st_size > 0


def test_a_second_run_in_the_same_folder_starts_afresh(tmp_path: Path) -> None:
    """What a first run left (its store) does not change what the second shows."""
    for _ in range(2):
        result = runner.invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        assert "FAILED" not in result.output


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
