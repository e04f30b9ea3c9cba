"""Test helpers and fakes that tests and users import."""
