"""Shared fixtures: where the national reference material is, and its validator."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EXAMPLES = SHARED / "reference" / "helsenorge" / "examples"
REFCHECK = SHARED / "tools" / "refcheck.py"


def example_files() -> list[Path]:
    """The official example messages, or none when the reference folder is absent."""
    return sorted(EXAMPLES.glob("*.xml")) if EXAMPLES.is_dir() else []


@pytest.fixture(scope="session")
def official_validate() -> Callable[[bytes], list[str]]:
    """Validate bytes against the OFFICIAL national schemas (shared/tools/refcheck.py).

    Returns the list of errors, empty when valid. Skips when the reference
    folder is not beside the repository.
    """
    if not REFCHECK.exists():
        pytest.skip(f"the national reference schemas are not at {REFCHECK.parent.parent}")
    spec = importlib.util.spec_from_file_location("refcheck", REFCHECK)
    assert spec is not None and spec.loader is not None
    refcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refcheck)
    schema = refcheck._schema()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

    def validate(data: bytes) -> list[str]:
        document = etree.fromstring(data, parser)
        if schema.validate(document):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]

    return validate
