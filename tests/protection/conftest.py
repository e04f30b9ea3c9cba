"""Fixtures: the session's throwaway PKI, and both sides' protection per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.protection.pki import Pki, TwoSides, make_pki, two_sides


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """CAs, the parties' keys and one bad certificate of each kind (made once)."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def sides(pki: Pki, tmp_path: Path) -> TwoSides:
    """The portal's and the municipality's protection, party files in ``tmp_path``."""
    return two_sides(pki, tmp_path)
