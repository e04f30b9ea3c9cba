"""A stateful fake Gerica (InnbyggerDialog v2) for tests, demos and users; needs the mock extra.

- :mod:`.server`: :class:`GericaMock`, checking each request as Gerica would and answering it;
- :mod:`.state` and :mod:`.records`: what the fake holds and Gerica's rules for it;
- :mod:`.checks`, :mod:`.render`: reading requests, writing answers (lxml, not the adapter's code);
- :mod:`.seed`: the shared seed data in Gerica's shape;
- :mod:`.harness`: :class:`GericaHarness`, the control API every vendor mock offers;
- :mod:`.plugin`: what the ``digidialog.mocks`` entry point ``gerica`` names.
"""

from digidialog_gerica.mock.harness import GericaHarness
from digidialog_gerica.mock.server import GericaMock

__all__ = ["GericaHarness", "GericaMock"]
