"""digidialog adapter for the Gerica EPJ (InnbyggerDialog v2: SOAP 1.1, WS-Security).

- :class:`GericaAdapter`: the EPJ contract over Gerica;
- :class:`GericaMock`: a stateful fake Gerica for tests and demos;
- :data:`plugin`: what the ``digidialog.adapters`` entry point ``gerica`` names.
"""

from digidialog_gerica.adapter import GericaAdapter
from digidialog_gerica.mock import GericaMock
from digidialog_gerica.plugin import GericaPlugin, plugin

__all__ = ["GericaAdapter", "GericaMock", "GericaPlugin", "plugin"]
