"""``digidialog mock-epj``: bad input refused in one line, nothing left behind, a missing
extra named, and the README's examples run as written."""

from __future__ import annotations

import json
import re
import shlex
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIGIDIALOG = str(Path(sys.executable).with_name("digidialog"))
EXAMPLE_KINDS = {"staff_message", "visit_completed", "cancellation_decided"}


def run(*arguments: str, python: str | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    """One ``digidialog`` command (or ``python -c`` code), its output captured."""
    command = [sys.executable, "-c", python, *arguments] if python else [DIGIDIALOG, *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False,
                          cwd=cwd)


@contextmanager
def mock_process(*arguments: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """``digidialog mock-epj`` running, with the ``key: value`` lines it printed."""
    process = subprocess.Popen([DIGIDIALOG, "mock-epj", *arguments], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    printed: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Ctrl-C"):
                break
            key, _, value = line.strip().partition(": ")
            printed[key] = value
        yield process, printed
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


# ------------------------------------------------------------------ refused input


@pytest.mark.parametrize(("arguments", "named"), [
    (["--vendor", "gerica", "--port", "99999"], "--port"),
    (["--vendor", "gerica", "--port", "-1"], "--port"),
    (["--vendor", "gerica", "--seed-citizens", "-3"], "--seed-citizens"),
    (["--vendor", "gerica", "--first-day", "23.11.2026"], "--first-day"),
    (["--vendor", "acme"], "no vendor mock named 'acme' (installed: cosdoc, gerica, profil)"),
])
def test_bad_options_are_refused_in_one_line(arguments: list[str], named: str) -> None:
    """A port out of range, a negative seed, a bad date, an unknown vendor: one line, exit 1."""
    result = run("mock-epj", *arguments)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert named in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.parametrize(("vendor", "missing", "extra"), [
    ("gerica", "pytest_httpserver", "digidialog-gerica[mock]"),
    ("profil", "werkzeug", "digidialog-profil[mock]"),
    ("cosdoc", "cryptography", "digidialog-cosdoc[mock]"),
])
def test_a_missing_extra_is_named(vendor: str, missing: str, extra: str) -> None:
    """Without the mock's test machinery, ``mock-epj`` names the extra that brings it."""
    hide = textwrap.dedent(f"""
        import sys
        sys.modules[{missing!r}] = None  # as if it were not installed
        from digidialog.cli.main import app
        app()
    """)
    result = run("mock-epj", "--vendor", vendor, python=hide)
    assert result.returncode == 1
    assert result.stderr == (f"error: the {vendor} mock needs the mock extra: "
                             f"pip install '{extra}' ({missing} is not installed)\n")


# ------------------------------------------------------------------ nothing left behind


@pytest.mark.parametrize(("vendor", "secret", "depth"), [
    ("cosdoc", "client_key", 2),  # <folder>/trusted/client.key
    ("profil", "event_store", 1),  # <folder>/events.sqlite3
])
def test_sigterm_removes_what_the_mock_wrote(vendor: str, secret: str, depth: int) -> None:
    """The folder holding keys (CosDoc) or the event store (Profil) is the owner's alone
    while the mock runs, and is gone once SIGTERM stopped it."""
    with mock_process("--vendor", vendor, "--seed-citizens", "1") as (process, printed):
        path = Path(printed[secret])
        folder = path.parents[depth - 1]
        assert folder.name.startswith(f"{vendor}-mock-")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        if vendor == "cosdoc":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert not folder.exists()


def test_the_fixture_cleans_up_after_a_failing_test(tmp_path: Path) -> None:
    """``mock_epj`` removes the CosDoc certificates when the test using it fails."""
    record = tmp_path / "folder.txt"
    (tmp_path / "test_uses_cosdoc.py").write_text(textwrap.dedent(f"""
        from pathlib import Path

        def test_fails(mock_epj):
            _mock, client = mock_epj("cosdoc", seed_citizens=1)
            key = Path(client.details["client_key"])
            Path({str(record)!r}).write_text(str(key.parent.parent))
            assert key.is_file()
            assert False, "this test fails on purpose"
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert "1 failed" in result.stdout, result.stdout[-2000:]
    folder = Path(record.read_text())
    assert folder.name.startswith("cosdoc-mock-")
    assert not folder.exists()


# ------------------------------------------------------------------ the README's examples


def _readme_block() -> list[str]:
    """The commands of the README's "Looking into an EPJ" block, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Looking into an EPJ"):]
    block = section[section.index("```sh\n") + 6:]
    block = block[:block.index("```")]
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip()]


def test_the_readme_examples_run_as_written(tmp_path: Path) -> None:
    """Every command of the README's block, with the ports and folders the mocks printed in
    place of the README's: the appointments example returns visits, and every change feed
    starts with a staff message, a visit done and a cancellation decided."""
    substitutions: dict[str, str] = {}
    outputs: list[tuple[str, object]] = []
    with _started_mocks(_readme_block(), substitutions) as commands:
        for written in commands:
            line = written
            for placeholder, actual in substitutions.items():
                line = line.replace(placeholder, actual)
            # In a folder of its own: Profil's adapter keeps a store where it runs.
            result = run(*shlex.split(line)[1:], cwd=tmp_path)
            assert result.returncode == 0, (line, result.stderr)
            outputs.append((line, json.loads(result.stdout)))
    appointments = [out for line, out in outputs if " appointments " in line]
    assert appointments
    assert isinstance(appointments[0], list)
    assert appointments[0], "the README's appointments example must show visits"
    days = {f"2026-11-{day}" for day in range(23, 31)}
    assert {visit["start"][:10] for visit in appointments[0]} <= days
    changes = [out for line, out in outputs if " changes " in line]
    assert len(changes) == 3
    for feed in changes:
        assert isinstance(feed, dict)
        assert {event["kind"] for event in feed["events"]} >= EXAMPLE_KINDS


@contextmanager
def _started_mocks(lines: list[str], substitutions: dict[str, str]) -> Iterator[list[str]]:
    """Start every ``mock-epj`` of ``lines`` on a free port; yield the other commands."""
    with ExitStack() as stack:
        for line in lines:
            if not line.startswith("digidialog mock-epj"):
                continue
            port = re.search(r"--port (\d+)", line)
            assert port is not None
            arguments = shlex.split(line.replace(port.group(0), "--port 0"))[2:]
            _process, printed = stack.enter_context(mock_process(*arguments))
            scheme = "https" if "cosdoc" in line else "http"
            substitutions[f"{scheme}://127.0.0.1:{port.group(1)}"] = printed["base_url"]
            if "event_store" in printed:
                substitutions["/tmp/profil-mock-XXXX/events.sqlite3"] = printed["event_store"]
            if "client_cert" in printed:
                substitutions["/tmp/cosdoc-mock-XXXX/trusted"] = str(
                    Path(printed["client_cert"]).parent)
        yield [line for line in lines if not line.startswith("digidialog mock-epj")]
