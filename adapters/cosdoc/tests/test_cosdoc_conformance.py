"""The shared conformance suite, run against the CosDoc mock over mutual TLS."""

from cosdoc_harness import CosDocHarness

from digidialog.adapters.testing import conformance_tests

TestCosDocConformance = conformance_tests(CosDocHarness)
