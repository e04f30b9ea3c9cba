"""The layers import only downwards: a pure domain, a neutral XML module, two sides apart.

The rules (DESIGN.md, "Layers"): the domain imports no XML library and no SOAP
stack; ``digidialog.xml`` (the hardened parser and tree helpers) serves both
sides and knows neither; the EPJ side (``digidialog.adapters`` and every
vendor package) never imports the Helsenorge side, and the Helsenorge side
never imports the EPJ side. The source is scanned rather than trusted, so a
new import that breaks a rule fails here, naming the file and the import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "digidialog"
VENDOR_PACKAGES = sorted(ROOT.glob("adapters/*/src/digidialog_*"))


def imported_modules(source: Path) -> set[str]:
    """Every module a file imports, absolute names only (``from . import x`` is local)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def offending_imports(folders: list[Path], forbidden: str) -> list[str]:
    """``file: module`` for each import of ``forbidden`` (or below it) under ``folders``."""
    return sorted(
        f"{source.relative_to(ROOT)}: {module}"
        for folder in folders
        for source in folder.rglob("*.py")
        for module in imported_modules(source)
        if module == forbidden or module.startswith(forbidden + ".")
    )


def test_the_scan_sees_the_vendor_packages_and_finds_imports() -> None:
    """The scan covers the three vendors and reads real imports (a guard against a
    rule that passes because it looked at nothing)."""
    assert {p.name for p in VENDOR_PACKAGES} >= {
        "digidialog_gerica", "digidialog_profil", "digidialog_cosdoc",
    }
    assert offending_imports([PACKAGE / "adapters"], "digidialog.xml") != []


@pytest.mark.parametrize("folder", [PACKAGE / "adapters", *VENDOR_PACKAGES], ids=lambda p: p.name)
def test_the_epj_side_does_not_import_the_helsenorge_side(folder: Path) -> None:
    """Neither the adapter machinery nor a vendor package imports ``digidialog.helsenorge``."""
    assert offending_imports([folder], "digidialog.helsenorge") == []


def test_the_helsenorge_side_does_not_import_the_epj_side() -> None:
    """The portal codecs import nothing of the adapters."""
    assert offending_imports([PACKAGE / "helsenorge"], "digidialog.adapters") == []


@pytest.mark.parametrize("side", ["digidialog.helsenorge", "digidialog.adapters"])
def test_the_xml_module_is_neutral(side: str) -> None:
    """``digidialog.xml`` belongs to neither side."""
    assert offending_imports([PACKAGE / "xml"], side) == []


@pytest.mark.parametrize(
    "other", ["digidialog.helsenorge", "digidialog.adapters", "digidialog.xml", "lxml", "zeep"]
)
def test_the_domain_imports_no_side_and_no_xml(other: str) -> None:
    """The domain's source names no codec, no adapter, no XML library."""
    assert offending_imports([PACKAGE / "domain"], other) == []


def test_importing_the_domain_loads_neither_lxml_nor_zeep() -> None:
    """In a fresh interpreter, ``import digidialog.domain`` leaves lxml and zeep unloaded
    (nothing imported on the way pulls them in either)."""
    probe = (
        "import sys, digidialog.domain\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'lxml', 'zeep'}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert completed.stdout.strip() == "[]"
