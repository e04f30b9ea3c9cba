"""digidialog adapter for the CosDoc EPJ: one SOAP operation, Latin-1 documents, mutual TLS.

- :class:`~digidialog_cosdoc.adapter.CosDocAdapter`: the EPJ contract over CosDoc;
- :data:`~digidialog_cosdoc.plugin.plugin`: the ``digidialog.adapters`` entry point.

The stateful fake CosDoc for tests and demos is :mod:`digidialog_cosdoc.mock`
(the ``mock`` extra). The wire contract is vendors.md, section "CosDoc"; the
choices it leaves open are in this distribution's README.
"""

from digidialog_cosdoc.adapter import CosDocAdapter

__all__ = ["CosDocAdapter"]
