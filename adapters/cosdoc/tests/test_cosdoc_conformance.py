"""The shared conformance suite, run against the CosDoc mock over mutual TLS."""

from digidialog.testing.conformance import conformance_tests

TestCosDocConformance = conformance_tests("cosdoc")
