"""The shared adapter conformance suite, run against the Profil mock and push endpoint."""

from digidialog.testing.conformance import conformance_tests

TestProfilConformance = conformance_tests("profil")
