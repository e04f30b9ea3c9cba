"""A stateful fake Profil (CitizenDialogService) for tests, demos and users; needs the mock extra.

- :mod:`.server`: :class:`ProfilMock`, checking each request as Profil would and answering it;
- :mod:`.state`: what the fake holds and Profil's rules for it;
- :mod:`.wire`: its XML, written with lxml rather than the adapter's code;
- :mod:`.push`: how it pushes NotifyEvent and resends until accepted;
- :mod:`.harness`: :class:`ProfilHarness`, the control API every vendor mock offers;
- :mod:`.plugin`: what the ``digidialog.mocks`` entry point ``profil`` names.
"""

from digidialog_profil.mock.harness import ProfilHarness
from digidialog_profil.mock.server import ProfilMock

__all__ = ["ProfilHarness", "ProfilMock"]
