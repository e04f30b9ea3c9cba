"""The command line: validate, decode, encode and demo, as people and scripts use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digidialog import __version__
from digidialog.cli.main import app
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import decode, encode
from digidialog.testing import samples
from tests.conftest import examples_folder

runner = CliRunner()
SENT = datetime(2026, 11, 23, 9, 30, tzinfo=OSLO)


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    """A valid citizen message on disk."""
    path = tmp_path / "he.xml"
    path.write_bytes(encode(samples.citizen_message(SENT)))
    return path


def test_validate_reports_each_file_and_exit_status(good_file: Path, tmp_path: Path) -> None:
    """ok/invalid per file, exit 0 only when all are valid; reasons name line or element."""
    broken = tmp_path / "broken.xml"
    broken.write_bytes(good_file.read_bytes()[:500])
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    xxe = tmp_path / "xxe.xml"
    xxe.write_text(f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]>'
                   "<x>&s;</x>")
    result = runner.invoke(app, ["validate", str(good_file)])
    assert result.exit_code == 0
    assert result.output == f"ok {good_file}\n"
    result = runner.invoke(app, ["validate", str(good_file), str(broken), str(xxe),
                                 str(tmp_path / "missing.xml"), str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"ok {good_file}"
    assert lines[1].startswith(f"invalid {broken}: line ")
    assert lines[2] == f"invalid {xxe}: document type declarations (DTD, entities) are not accepted"
    assert lines[3].endswith("no such file")
    assert lines[4].endswith("is a directory, not a file")
    assert "TOP-SECRET-MARKER" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_validate_refuses_a_named_pipe_without_waiting_for_it(tmp_path: Path) -> None:
    """A FIFO with no writer is refused at once (opening it would wait forever), like a
    directory; decode refuses it the same way, on stderr."""
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    command = Path(sys.executable).with_name("digidialog")
    validated = subprocess.run([command, "validate", fifo], capture_output=True, text=True,
                               timeout=60, check=False)
    assert validated.returncode == 1
    assert validated.stdout == f"invalid {fifo}: is a named pipe, not a regular file\n"
    decoded = subprocess.run([command, "decode", fifo], capture_output=True, text=True,
                             timeout=60, check=False)
    assert decoded.returncode == 1
    assert decoded.stderr.startswith(f"invalid {fifo}: is a named pipe, not a regular file")


def test_validate_refuses_a_device(tmp_path: Path) -> None:
    """A character device (one that never ends) is refused from its metadata."""
    device = Path(os.devnull)
    if not device.is_char_device():
        pytest.skip(f"{device} is not a character device here")
    result = runner.invoke(app, ["validate", str(device)])
    assert result.exit_code == 1
    assert result.output == f"invalid {device}: is a device, not a regular file\n"


def test_validate_refuses_unsupported_process(tmp_path: Path) -> None:
    """A well-formed message of a process digidialog does not serve is invalid, and says so."""
    path = tmp_path / "other.xml"
    xml = encode(samples.citizen_message(SENT)).replace(
        b"DIALOG_INNBYGGER_EKONTAKT", b"DIALOG_INNBYGGER_RESEPTFORNYELSE")
    path.write_bytes(xml)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "unsupported process" in result.output


def test_decode_then_encode_round_trips(good_file: Path, tmp_path: Path) -> None:
    """decode prints the documented JSON; encode turns it back into the same message."""
    result = runner.invoke(app, ["decode", str(good_file)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["function"] == "citizen_message"
    assert data["patient"]["id"] == samples.CITIZEN.id
    assert data["on_behalf_of"]["relation"] == "FU"
    assert data["sender"]["her_ids"] == list(samples.HELSENORGE.her_ids)
    json_path = tmp_path / "he.json"
    json_path.write_text(result.stdout)
    encoded = runner.invoke(app, ["encode", str(json_path)])
    assert encoded.exit_code == 0
    xml_path = tmp_path / "again.xml"
    xml_path.write_bytes(encoded.stdout_bytes)
    again = runner.invoke(app, ["decode", str(xml_path)])
    assert json.loads(again.stdout) == data


def test_json_form_has_the_documented_keys(good_file: Path) -> None:
    """The keys scripts rely on are all present."""
    data = json.loads(runner.invoke(app, ["decode", str(good_file)]).stdout)
    for key in ("process", "function", "msg_id", "conversation", "sender", "receiver",
                "patient", "on_behalf_of", "subject", "body", "appointments", "cancellation",
                "decision", "receipt", "digital_status", "services"):
        assert key in data


def test_appointment_times_are_instants_with_offsets(tmp_path: Path) -> None:
    """Appointment start/end in JSON carry an explicit UTC offset."""
    request = samples.planned_appointments_request(SENT)
    path = tmp_path / "svar.xml"
    path.write_bytes(encode(samples.planned_appointments_reply(request, SENT.date())))
    data = json.loads(runner.invoke(app, ["decode", str(path)]).stdout)
    first = data["appointments"][0]
    assert first["status"] == "planned"
    assert first["start"].endswith("+01:00")
    assert first["recurrence"]["by_day"] == ["MO", "WE", "FR"]


def test_encode_reports_bad_json_without_echoing_it(tmp_path: Path) -> None:
    """Bad JSON input is refused with where and what, never the value itself."""
    path = tmp_path / "bad.json"
    data = json.loads(samples.citizen_message(SENT).model_dump_json())
    data["patient"]["id"] = "13116900217"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["encode", str(path)])
    assert result.exit_code == 1
    assert "patient.id" in result.stderr
    assert "check digit" in result.stderr
    assert "13116900217" not in result.stderr
    path.write_text("{not json")
    assert runner.invoke(app, ["encode", str(path)]).exit_code == 1


def test_encode_ignores_keys_a_later_version_may_add(tmp_path: Path) -> None:
    """JSON with keys this version does not know (top level and nested) still encodes, to
    the same message; the ignored keys are named on stderr, and stdout is the XML alone."""
    request = samples.planned_appointments_request(SENT)
    message = samples.planned_appointments_reply(request, SENT.date())
    data = json.loads(message.model_dump_json())
    data["priority"] = "high"
    data["sender"]["channel"] = {"kind": "amqp"}
    data["appointments"][0]["colour"] = "blue"
    data["appointments"][0]["recurrence"]["exceptions"] = []
    path = tmp_path / "later.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["encode", str(path)])
    assert result.exit_code == 0, result.stderr
    assert decode(result.stdout_bytes.strip()) == message
    assert result.stderr == (
        f"note: {path}: ignored keys this version does not know: sender.channel, "
        "appointments.0.recurrence.exceptions, appointments.0.colour, priority\n")
    del data["msg_id"]
    data["msg_idd"] = str(message.msg_id)  # a misspelt key does not stand in for the real one
    path.write_text(json.dumps(data))
    refused = runner.invoke(app, ["encode", str(path)])
    assert refused.exit_code == 1
    assert refused.stderr == f"invalid {path}: msg_id: Field required\n"


def test_decode_refuses_broken_input(tmp_path: Path) -> None:
    """decode prints a one-line reason on stderr and exits 1."""
    path = tmp_path / "bin.xml"
    path.write_bytes(bytes(range(256)) * 4)
    result = runner.invoke(app, ["decode", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"invalid {path}: ")


def test_version_and_short_help() -> None:
    """`--version` prints the version; `-h` gives help, on the top level and on subcommands."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"{__version__}\n"
    for command in ([], ["validate"], ["epj", "services"]):
        helped = runner.invoke(app, [*command, "-h"], prog_name="digidialog")
        assert helped.exit_code == 0, helped.output
        assert "Usage: digidialog" in helped.output


def test_demo_runs_and_reads_examples() -> None:
    """The demo walks the journey and understands the official examples."""
    folder = examples_folder()
    result = runner.invoke(app, ["demo", "--examples", str(folder)])
    assert result.exit_code == 0, result.output
    assert "cancellation_request" in result.output
    assert "re-encodes valid" in result.output


def test_installed_entry_point(
    good_file: Path, official_validate: Callable[[bytes], list[str]]
) -> None:
    """The console script works as installed, and its XML passes the official schemas."""
    command = Path(sys.executable).with_name("digidialog")
    decoded = subprocess.run([command, "decode", good_file], capture_output=True, check=True)
    json_file = good_file.with_suffix(".json")
    json_file.write_bytes(decoded.stdout)
    encoded = subprocess.run([command, "encode", json_file], capture_output=True, check=True)
    assert official_validate(encoded.stdout.strip()) == []
