"""Waiting for something to become true: the one poll loop of the tests, the demo and the
disruptive tests' restarts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(probe: Callable[[], T | None], timeout: float, what: str,
          interval: float = 0.1) -> T:
    """The first truthy answer of ``probe`` within ``timeout`` seconds, asked every
    ``interval``; else :class:`TimeoutError` naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:g} s: {what}")
        time.sleep(interval)
