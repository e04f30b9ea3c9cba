"""Which configuration file is read, and how a file that cannot be read is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from digidialog.daemon.config import ConfigError, config_path, load_config


def write(tmp_path: Path, text: str, name: str = "digidialog.toml") -> Path:
    """A configuration file with ``text``."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
[portal]
her_id = "100000"

[[municipality]]
name = "Eksempel kommune"
her_id = "1000001"
vendor = "gerica"
[municipality.epj]
base_url = "http://127.0.0.1:8081"
"""


def test_a_file_is_read_and_its_problems_name_it(tmp_path: Path) -> None:
    """load_config reads TOML; a refusal names the file it read."""
    path = write(tmp_path, MINIMAL)
    assert load_config(path).municipalities[0].name == "Eksempel kommune"
    write(tmp_path, MINIMAL.replace('"http://127.0.0.1:8081"', '"localhost"'))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value) == (f"{path}: refused (1 problem)\n"
                                  "municipality[1].epj.base_url: not a URL")


def test_broken_toml_a_missing_file_and_bad_bytes_are_refused_plainly(tmp_path: Path) -> None:
    """No traceback: one line saying what is wrong with the file itself."""
    broken = write(tmp_path, "[portal\nher_id = 1\n")
    with pytest.raises(ConfigError) as refused:
        load_config(broken)
    assert refused.value.problems[0].startswith("not valid TOML: ")
    assert "line 1" in refused.value.problems[0]

    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "absent.toml")
    assert str(refused.value) == f"{tmp_path / 'absent.toml'}: refused (1 problem)\nno such file"

    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('name = "Bømlo"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as refused:
        load_config(latin1)
    assert refused.value.problems == ("not UTF-8 text",)

    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path)
    assert refused.value.problems[0].startswith("cannot be read: ")


def test_which_file_config_means(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--config, then $DIGIDIALOG_CONFIG, then ./digidialog.toml, then none."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIGIDIALOG_CONFIG", raising=False)
    assert config_path(None) is None
    with pytest.raises(ConfigError) as refused:
        load_config(None)
    assert refused.value.problems == ("no configuration file: give --config FILE, set "
                                      "DIGIDIALOG_CONFIG, or create ./digidialog.toml",)

    local = write(tmp_path, MINIMAL)
    assert config_path(None) == Path("digidialog.toml")
    assert load_config(None).portal.her_id == "100000"

    named = write(tmp_path, MINIMAL.replace("100000", "100001"), "named.toml")
    monkeypatch.setenv("DIGIDIALOG_CONFIG", str(named))
    assert config_path(None) == named
    assert load_config(None).portal.her_id == "100001"
    assert config_path(local) == local

    monkeypatch.setenv("DIGIDIALOG_CONFIG", "")
    assert config_path(None) == Path("digidialog.toml")
    monkeypatch.setenv("DIGIDIALOG_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError) as refused:
        load_config(None)
    assert refused.value.problems == ("no such file (named by DIGIDIALOG_CONFIG)",)
