"""Every event is a line of its own, whatever the daemon's threads log at once."""

from __future__ import annotations

import json
import threading

import pytest

from digidialog import log


def test_events_from_many_threads_never_share_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Eight threads logging at once: each line parses as one JSON event."""
    log.configure()
    logger = log.get_logger("test.lines")

    def chatter(n: int) -> None:
        for i in range(300):
            logger.info("tick", thread=n, i=i, padding="x" * 200)

    threads = [threading.Thread(target=chatter, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    events = [json.loads(line) for line in lines]
    assert len(events) == 8 * 300
    assert {e["event"] for e in events} == {"tick"}
