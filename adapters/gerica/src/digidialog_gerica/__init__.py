"""digidialog adapter for the Gerica EPJ (InnbyggerDialog v2: SOAP 1.1, WS-Security).

- :class:`GericaAdapter`: the EPJ contract over Gerica;
- :data:`plugin`: what the ``digidialog.adapters`` entry point ``gerica`` names.

The stateful fake Gerica for tests and demos is :mod:`digidialog_gerica.mock`
(the ``mock`` extra).
"""

from digidialog_gerica.adapter import GericaAdapter
from digidialog_gerica.plugin import GericaPlugin, plugin

__all__ = ["GericaAdapter", "GericaPlugin", "plugin"]
