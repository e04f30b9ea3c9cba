"""The entry point ``digidialog.mocks`` -> ``profil``: makes Profil's control API (its harness)."""

from __future__ import annotations

from datetime import date

from digidialog_profil.mock.harness import ProfilHarness


class ProfilMockPlugin:
    """Makes a :class:`ProfilHarness`: a fresh, seeded Profil mock and the push endpoint."""

    name = "profil"

    def harness(self, *, seed_citizens: int = 0, first_day: date | None = None
                ) -> ProfilHarness:
        """A harness whose mock holds ``seed_citizens`` clients with visits around
        ``first_day`` (today by default); not started."""
        return ProfilHarness(seed_citizens=seed_citizens, first_day=first_day)


plugin = ProfilMockPlugin()
"""The object the entry point names."""
