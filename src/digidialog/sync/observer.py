"""What the engine reports as it works, for metrics: messages in and out, AppRec errors.

The daemon's :class:`~digidialog.daemon.metrics.Metrics` is an observer as it
is; tests and library users may pass their own or none.
"""

from __future__ import annotations

from typing import Literal, Protocol


class EngineObserver(Protocol):
    """Told of each message taken from or handed to the portal, and of AppRec errors."""

    def message_received(self, municipality: str, kind: str) -> None:
        """A message was stored from the portal (``kind``: its process, or ``APPREC``)."""

    def message_sent(self, municipality: str, kind: str) -> None:
        """A message was handed to the portal's queue."""

    def apprec_error(self, municipality: str, code: str, *,
                     direction: Literal["received", "sent"]) -> None:
        """An AppRec with an error code was received or sent."""


class NoObserver:
    """Listens to nothing."""

    def message_received(self, municipality: str, kind: str) -> None:
        """Nothing."""

    def message_sent(self, municipality: str, kind: str) -> None:
        """Nothing."""

    def apprec_error(self, municipality: str, code: str, *,
                     direction: Literal["received", "sent"]) -> None:
        """Nothing."""
