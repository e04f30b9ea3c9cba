"""The shared adapter conformance suite, run against the Gerica mock."""

from digidialog.testing.conformance import conformance_tests

TestGericaConformance = conformance_tests("gerica")
