"""Writes docs/configuration.md from the field docstrings of `asyncstt.settings.Settings`, and the variables
that are read before the settings."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel

from asyncstt.observability.logs import FORMAT_SETTING
from asyncstt.settings import Settings

HEADER = """# Configuration

Generated from `src/asyncstt/settings.py` by `python scripts/configuration_docs.py`; do not edit by hand.
Below the settings come the variables read before the settings are loaded; each names the module that reads it.

Every setting can be given in the environment: `ASYNCSTT_` + the name, with `__` between a section and its field,
e.g. `ASYNCSTT_STORAGE__ENDPOINT_URL=http://127.0.0.1:9000`. Lists are JSON (`ASYNCSTT_HTTP_SOURCES__ALLOWED_HOSTS='["media.example.com"]'`).
The command line (`asyncstt serve --data-dir … --database … --dask … --file-root …`) overrides the environment.

| variable | default | meaning |
|---|---|---|
"""


#: Variables read outside `Settings`, because they take effect before the settings are loaded: (name,
#: default, meaning).
EARLY_VARIABLES = (
    (
        FORMAT_SETTING,
        "plain",
        "`json`: logs are one JSON object a line on stderr, for a log collector (see docs/deploy.md); "
        "anything else: plain lines. Read by API processes and Dask workers as they set up logging "
        "(`src/asyncstt/observability/logs.py`).",
    ),
)


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


def early_rows() -> list[str]:
    return [f"| `{name}` | `{default}` | {meaning} |" for name, default, meaning in EARLY_VARIABLES]


def render() -> str:
    return HEADER + "\n".join([*rows(Settings, "ASYNCSTT_"), *early_rows()]) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
