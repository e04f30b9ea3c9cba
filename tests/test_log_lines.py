"""Every event is a line of its own, whatever the daemon's threads log at once."""

from __future__ import annotations

import json
import subprocess
import sys

CHATTER = """
import threading
from digidialog import log
log.configure()
logger = log.get_logger("test.lines")

def chatter(n):
    for i in range(2000):
        logger.info("tick", thread=n, i=i)

threads = [threading.Thread(target=chatter, args=(n,)) for n in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def test_events_from_many_threads_never_share_a_line() -> None:
    """Eight threads of a process logging at once into a pipe, as the daemon does: each
    line parses as one JSON event."""
    done = subprocess.run([sys.executable, "-c", CHATTER], capture_output=True, text=True,
                          timeout=120, check=True)
    events = [json.loads(line) for line in done.stderr.splitlines() if line]
    assert len(events) == 8 * 2000
    assert {e["event"] for e in events} == {"tick"}
