"""`python -m asyncstt.cli`: the same commands as the `asyncstt` script."""

from __future__ import annotations

import sys

from asyncstt.cli.main import main

sys.exit(main())
