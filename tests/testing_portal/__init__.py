"""Tests of the portal simulator (digidialog.testing.portal)."""
