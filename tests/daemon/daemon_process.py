"""``digidialog run`` as a real process, for tests: a configuration written from a running
vendor mock, the daemon started, its JSON log read for the address it listens on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from digidialog.domain.timezone import OSLO
from digidialog.testing.harness import ConformanceHarness


def config_text(harness: ConformanceHarness, *, store_url: str, municipality: str,
                service: str, portal_her_id: str, transport: str = "embedded",
                amqp_url: str | None = None, options: dict[str, str] | None = None,
                nightly: str | None = None) -> str:
    """A daemon configuration for one municipality on ``harness``'s vendor mock.

    ``options`` are vendor keys of ``[municipality.epj]``, over the harness's own.
    ``nightly`` is the nightly job's time; by default twelve hours from now, so that
    a daemon under test runs it only when the test asks for it.
    """
    settings = harness.settings()
    nightly = nightly or (datetime.now(OSLO) + timedelta(hours=12)).strftime("%H:%M")
    lines = [
        "[store]", f"url = {json.dumps(store_url)}",
        "[portal]", f'transport = "{transport}"', f'her_id = "{portal_her_id}"',
        *([f"url = {json.dumps(amqp_url)}"] if amqp_url else []),
        "[http]", 'listen = "127.0.0.1:0"',
        "[[municipality]]", 'name = "Eksempel kommune"', f'her_id = "{municipality}"',
        f'vendor = "{harness.vendor}"', f'nightly = "{nightly}"',
        "[municipality.epj]", f"base_url = {json.dumps(settings.base_url)}",
    ]
    for key in ("username", "password", "client_cert", "client_key", "ca"):
        value = getattr(settings, key)
        if value is not None:
            lines.append(f"{key} = {json.dumps(str(value))}")
    for key, value in {**settings.options, **(options or {})}.items():
        lines.append(f"{key} = {json.dumps(value)}")
    lines += ["[[municipality.service]]",
              f'vendor_code = "{harness.open_service()}"', f'her_id = "{service}"']
    return "\n".join(lines) + "\n"


@dataclass
class DaemonProcess:
    """A running ``digidialog run`` and every line it logged."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    url: str = ""

    def events(self) -> list[dict[str, object]]:
        """The log lines that are JSON events."""
        found = []
        for line in list(self.lines):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, and the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextmanager
def running_daemon(config: Path, cwd: Path, *, timeout: float = 30.0) -> Iterator[DaemonProcess]:
    """Start the daemon on ``config``; wait until it says where it listens."""
    environment = {**os.environ, "DIGIDIALOG_CONFIG": str(config)}
    process = subprocess.Popen(
        [sys.executable, "-m", "digidialog.cli.main", "run"], cwd=cwd, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    daemon = DaemonProcess(process)
    assert process.stderr is not None
    stderr = process.stderr

    def read() -> None:
        for line in stderr:
            daemon.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not daemon.url:
            started = [e for e in daemon.events() if e.get("event") == "daemon started"]
            if started:
                daemon.url = f"http://{started[0]['listen']}"
            elif process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the daemon did not start:\n" + "\n".join(daemon.lines))
            else:
                time.sleep(0.05)
        yield daemon
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=5)
