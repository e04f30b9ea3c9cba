"""The shared conformance suite, run against the CosDoc mock over mutual TLS."""

from cosdoc_harness import CosDocHarness

from digidialog.testing.conformance import conformance_tests

TestCosDocConformance = conformance_tests(CosDocHarness)
