"""Helpers of the proof tests: a running daemon's world, what reached where, and waiting.

The world is the crash harness's (:func:`digidialog.testing.crash.world.crash_world`):
real ``digidialog run`` processes on PostgreSQL and RabbitMQ, the portal
simulator, the vendor mocks. These helpers only read it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from digidialog.helsenorge import Function
from digidialog.testing.crash.config import Site
from digidialog.testing.crash.process import DaemonProcess, readiness
from digidialog.testing.crash.world import CrashWorld, crash_world

T = TypeVar("T")
FAST_EPJ = {"timeout": 2.0, "attempts": 2, "backoff_initial": 0.2}
"""The adapters' call policy in these tests: a fault shows within seconds."""


@contextmanager
def one_daemon(folder: Path, title: str, figures: list[str]) -> Iterator[CrashWorld]:
    """One running daemon serving a Gerica, a Profil and a CosDoc municipality, with the
    fast EPJ call policy; ``figures`` (what the tests measured) printed under ``title``
    at the end (``-s``)."""
    with crash_world(("gerica", "profil", "cosdoc"), citizens=2, epj_options=FAST_EPJ,
                     folder=folder) as started:
        daemon = started.daemons[0]
        daemon.start()
        daemon.wait_started()
        yield started
    print("\n".join(["", title, *figures]))


def until(probe: Callable[[], T | None], timeout: float, what: str,
          interval: float = 0.1) -> T:
    """The first truthy answer of ``probe`` within ``timeout`` seconds, else fail."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(interval)


def marker(kind: str) -> str:
    """A unique word for one text."""
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def in_epj(site: Site, msg_id: str) -> int:
    """How many messages the site's EPJ holds under our ``msg_id``."""
    return sum(1 for m in site.harness.delivered_messages() if m["message_id"] == msg_id)


def at_portal(world: CrashWorld, word: str) -> set[str]:
    """The MsgIds of the staff messages at the portal whose text holds ``word``."""
    return {r.msg_id for r in world.portal.received()
            if r.function in (Function.SERVICE_REPLY, Function.SERVICE_MESSAGE)
            and word in (r.message.body or "")}


def send_message(world: CrashWorld, site: Site, word: str, citizen: int = 0) -> str:
    """A citizen of ``site`` writes a text holding ``word``; its MsgId."""
    sent = world.portal.send_citizen_message(site.municipality, site.service,
                                             site.citizens[citizen], body=f"Hei {word}.")
    assert sent.msg_id is not None
    return sent.msg_id


def checks(daemon: DaemonProcess) -> tuple[int, dict[str, str]]:
    """``/readyz``: status and each named check."""
    return readiness(daemon.url)


def failing(daemon: DaemonProcess, name: str) -> str | None:
    """The reason check ``name`` fails with, or None while it passes."""
    _, named = checks(daemon)
    reason = named.get(name)
    return None if reason in (None, "ok") else reason


def ready(daemon: DaemonProcess) -> bool:
    """Whether ``/readyz`` answers 200."""
    return checks(daemon)[0] == 200
