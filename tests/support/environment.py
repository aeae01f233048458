"""The environment a test or benchmark gives the processes it starts."""

from __future__ import annotations

import os
from collections.abc import Mapping


def child_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any asyncstt setting, then `overrides`: a child process reads only
    the settings it is given, whatever the shell that started the tests had set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASYNCSTT_")}
    env.update(overrides or {})
    return env
