"""The simulator is usable with a plain install: importing it loads no test machinery."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_simulator_loads_no_test_machinery() -> None:
    """No pytest, werkzeug or pytest-httpserver in a fresh interpreter after the import."""
    probe = (
        "import json, sys\n"
        "import digidialog.testing.portal\n"
        "loaded = {name.split('.')[0] for name in sys.modules}\n"
        "print(json.dumps(sorted(loaded & {'pytest', '_pytest', 'werkzeug', "
        "'pytest_httpserver'})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    assert json.loads(result.stdout) == []
