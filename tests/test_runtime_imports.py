"""What the daemon imports carries no test machinery: no pytest, werkzeug or pytest-httpserver
(the mocks' extras), checked in a fresh interpreter. (cryptography, once only the CosDoc mock's,
is a core dependency since message protection.)"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

DAEMON_MODULES = [
    "digidialog.adapters.registry",
    "digidialog.adapters.soap",
    "digidialog_gerica.adapter",
    "digidialog_gerica.plugin",
    "digidialog_profil.adapter",
    "digidialog_profil.plugin",
    "digidialog_profil.push",
    "digidialog_cosdoc.adapter",
    "digidialog_cosdoc.plugin",
    "digidialog.cli.main",
]
TEST_MACHINERY = {"pytest", "_pytest", "werkzeug", "pytest_httpserver"}


def _loaded_after(code: str) -> set[str]:
    """The top-level packages of TEST_MACHINERY that ``code`` leaves in sys.modules."""
    probe = code + textwrap.dedent(f"""
        import json, sys
        wanted = {sorted(TEST_MACHINERY)!r}
        print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}} & set(wanted))))
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    return set(json.loads(result.stdout))


def test_the_daemons_modules_load_no_test_machinery() -> None:
    """The registry, the SOAP plumbing, each vendor's adapter and plugin, Profil's push
    endpoint and the CLI import none of it, even with it installed (as it is here)."""
    imports = "".join(f"import {module}\n" for module in DAEMON_MODULES)
    assert _loaded_after(imports) == set()


def test_loading_and_using_the_adapter_plugins_loads_no_test_machinery() -> None:
    """Loading every adapter through its entry point and making an adapter needs none of it."""
    code = textwrap.dedent("""
        from digidialog.adapters import registry
        from digidialog.adapters.registry import AdapterSettings
        for name in ("gerica", "profil", "cosdoc"):
            registry.load(name)
        registry.load("gerica").create(AdapterSettings(
            base_url="http://127.0.0.1:9", username="u", password="p")).close()
    """)
    assert _loaded_after(code) == set()


def test_the_probe_sees_test_machinery_when_it_is_loaded() -> None:
    """The check itself works: loading a vendor mock does bring the machinery in."""
    assert {"pytest_httpserver", "werkzeug"} <= _loaded_after("import digidialog_gerica.mock\n")
