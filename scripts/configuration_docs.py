"""Writes docs/configuration.md from the field docstrings of `asyncstt.settings.Settings`."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel

from asyncstt.settings import Settings

HEADER = """# Configuration

Generated from `src/asyncstt/settings.py` by `python scripts/configuration_docs.py`; do not edit by hand.

Every setting can be given in the environment: `ASYNCSTT_` + the name, with `__` between a section and its field,
e.g. `ASYNCSTT_STORAGE__ENDPOINT_URL=http://127.0.0.1:9000`. Lists are JSON (`ASYNCSTT_HTTP_SOURCES__ALLOWED_HOSTS='["media.example.com"]'`).
The command line (`asyncstt serve --data-dir … --database … --dask … --file-root …`) overrides the environment.

| variable | default | meaning |
|---|---|---|
"""


def rows(model: type[BaseModel], prefix: str) -> list[str]:
    lines = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines.extend(rows(annotation, f"{prefix}{name.upper()}__"))
            continue
        default = field.get_default(call_default_factory=True)
        shown = "" if default is None else str(default)
        lines.append(f"| `{prefix}{name.upper()}` | `{shown}` | {field.description or ''} |")
    return lines


def render() -> str:
    return HEADER + "\n".join(rows(Settings, "ASYNCSTT_")) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
