"""The entry point ``digidialog.mocks`` -> ``cosdoc``: makes CosDoc's control API (its harness)."""

from __future__ import annotations

from datetime import date

from digidialog_cosdoc.mock.harness import CosDocHarness


class CosDocMockPlugin:
    """Makes a :class:`CosDocHarness` around a fresh, seeded CosDoc mock."""

    name = "cosdoc"

    def harness(self, *, seed_citizens: int = 0, first_day: date | None = None
                ) -> CosDocHarness:
        """A harness whose mock holds ``seed_citizens`` patients with visits around
        ``first_day`` (today by default); not started."""
        return CosDocHarness(seed_citizens=seed_citizens, first_day=first_day)


plugin = CosDocMockPlugin()
"""The object the entry point names."""
