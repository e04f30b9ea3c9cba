"""``digidialog run`` as a real process that can be killed: started, watched, SIGKILLed, restarted.

Each incarnation's JSON log (stderr) is appended to one file and kept in
memory, so that a run can scan every line the daemon ever wrote for personal
data, and find the events it needs (``daemon started``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from digidialog.testing.crash.worklog import log_events


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the daemon binds it; it stays its port across
    restarts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


STARTED = '"event": "daemon started"'
"""How the log line the daemon writes once it serves begins its event."""


@dataclass(frozen=True)
class Kill:
    """One SIGKILL: when it was sent (UTC), and whether the incarnation had started serving
    (a kill during start-up, before the daemon touched anything, proves less)."""

    at: datetime
    serving: bool


class DaemonProcess:
    """One daemon identity (its configuration, port and log) across many incarnations."""

    def __init__(self, name: str, config: Path, port: int, log_file: Path) -> None:
        self.name = name
        self.config = config
        self.port = port
        self.log_file = log_file
        self.lines: list[str] = []
        self.incarnations = 0
        self.kills = 0
        self.killed: list[Kill] = []
        """Each SIGKILL: when, and whether it hit a serving incarnation."""
        self._first_line = 0
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: health, readiness, metrics and push callbacks."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The running incarnation's process id."""
        return None if self._process is None else self._process.pid

    def running(self) -> bool:
        """Whether an incarnation is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start a new incarnation (without waiting for it to serve)."""
        if self.running():
            raise RuntimeError(f"{self.name} is already running")
        environment = {**os.environ, "DIGIDIALOG_CONFIG": str(self.config),
                       "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "digidialog.cli.main", "run"], env=environment,
            cwd=self.config.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, errors="replace")
        self._process = process
        self.incarnations += 1
        with self._lock:
            self._first_line = len(self.lines)
        self._reader = threading.Thread(target=self._read, args=(process.stderr,),
                                        name=f"log-{self.name}", daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        with self.log_file.open("a", encoding="utf-8") as out:
            for raw in stream:
                line = raw.rstrip("\n")
                with self._lock:
                    self.lines.append(line)
                out.write(line + "\n")
                out.flush()

    def started_count(self) -> int:
        """How many ``daemon started`` events were logged over every incarnation."""
        return sum(1 for event in self.events() if event.get("event") == "daemon started")

    def wait_started(self, timeout: float = 60.0) -> None:
        """Wait until the current incarnation serves HTTP; fail if it dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited with {self.exit_code()}:\n"
                                   + "\n".join(self.lines[-30:]))
            if get(self.url + "/healthz")[0] == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not serve within {timeout:g} s")

    def kill(self) -> None:
        """SIGKILL: no handler runs, no lease is handed back, nothing is flushed."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        with self._lock:
            lines = self.lines[self._first_line:]
        self.killed.append(Kill(datetime.now(UTC), any(STARTED in line for line in lines)))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        self.kills += 1
        self._join_reader()

    def terminate(self, timeout: float = 60.0) -> int | None:
        """SIGTERM and wait; the exit status (None when nothing ran)."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        self._join_reader()
        return process.returncode

    def exit_code(self) -> int | None:
        """The last incarnation's exit status, or None while it runs."""
        return None if self._process is None else self._process.poll()

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=10)
            self._reader = None

    def events(self) -> list[dict[str, object]]:
        """Every logged line that is a JSON event, over every incarnation."""
        with self._lock:
            lines = list(self.lines)
        return log_events(lines)


def get(url: str, *, accept: str | None = None, timeout: float = 5.0) -> tuple[int, str]:
    """Status and body of a GET (0 and the reason when nothing answers)."""
    headers = {"Accept": accept} if accept else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own daemon
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()
    except OSError as error:
        return 0, str(error)


def readiness(url: str) -> tuple[int, dict[str, str]]:
    """``/readyz`` as JSON: its status and each named check's answer ("ok" or the reason)."""
    status, body = get(url + "/readyz", accept="application/json")
    try:
        checks = json.loads(body).get("checks", {})
    except ValueError:
        checks = {}
    return status, {str(k): str(v) for k, v in checks.items()}
