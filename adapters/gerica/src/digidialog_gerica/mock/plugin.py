"""The entry point ``digidialog.mocks`` -> ``gerica``: makes Gerica's control API (its harness)."""

from __future__ import annotations

from datetime import date

from digidialog_gerica.mock.harness import GericaHarness


class GericaMockPlugin:
    """Makes a :class:`GericaHarness` around a fresh, seeded Gerica mock."""

    name = "gerica"

    def harness(self, *, seed_citizens: int = 0, first_day: date | None = None
                ) -> GericaHarness:
        """A harness whose mock holds ``seed_citizens`` citizens with visits around
        ``first_day`` (today by default); not started."""
        return GericaHarness(seed_citizens=seed_citizens, first_day=first_day)


plugin = GericaMockPlugin()
"""The object the entry point names."""
