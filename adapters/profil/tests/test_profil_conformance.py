"""The shared adapter conformance suite, run against the Profil mock and push endpoint."""

from profil_harness import ProfilHarness

from digidialog.testing.conformance import conformance_tests

TestProfilConformance = conformance_tests(ProfilHarness)
