"""Tests of digidialog.store and the embedded transport, on SQLite and PostgreSQL."""
