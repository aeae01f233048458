from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from scripts.configuration_docs import render

from asyncstt.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_docs_match_the_settings() -> None:
    assert DOCS.read_text() == render(), "run: python scripts/configuration_docs.py"


def test_every_setting_is_documented() -> None:
    rows = [line for line in render().splitlines() if line.startswith("| `ASYNCSTT_")]
    assert len(rows) > 30
    undocumented = [row for row in rows if row.rsplit("|", 2)[-2].strip() == ""]
    assert undocumented == []


def test_nested_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCSTT_LIMITS__MAX_CHANNELS", "1")
    monkeypatch.setenv("ASYNCSTT_STORAGE__ENDPOINT_URL", "http://127.0.0.1:9000")
    settings = Settings()
    assert settings.limits.max_channels == 1
    assert settings.storage.endpoint_url == "http://127.0.0.1:9000"


def test_unknown_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        Settings(limits={"max_chanels": 1})


def test_store_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.store_url == f"sqlite:///{tmp_path.resolve() / 'asyncstt.sqlite3'}"
