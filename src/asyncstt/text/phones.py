"""Phone numbers in normalised text: digit groups said one after another become `7(999)123-45-67`.

A phone number is recognised only by the shape of its digit groups (separated by spaces or hyphens), never by
a lone number, so `12 orders`, years and amounts stay as they are:

* Russian, with the trunk or country digit: `7 999 123 45 67`, `8 999 123 45 67`, `+7 999 123-45-67`,
  `8 800 555 3535` -> `7(999)123-45-67`, `8(999)123-45-67`, `+7(999)123-45-67`, `8(800)555-35-35`;
* Russian, ten digits: `999 123 45 67` -> `(999)123-45-67`;
* North American: `555 123 4567`, `1 555 123 4567` -> `(555)123-4567`, `1(555)123-4567`;
* one group after `+`: `+79991234567` -> `+7(999)123-45-67`, `+15551234567` -> `+1(555)123-4567`.

SpeechKit documents only the first example; the other shapes follow the same written convention. The area
code never starts with 0 or 1 (no Russian or North American one does), which keeps `100 200 3000` a list.
"""

from __future__ import annotations

import re

#: A run of digit groups, possibly after `+`, not glued to letters or other digits.
_RUN = re.compile(r"(?<![\w+])(?:\+(?=\d))?\d+(?:[ -]\d+)*(?!\w)")
_SEPARATOR = re.compile(r"([ -])")
#: Russian trunk prefix (8) and country code (7).
_RUSSIAN_PREFIXES = ("7", "8")
_NORTH_AMERICAN_PREFIX = "1"
#: What may follow `+`: the trunk prefix 8 is dialled, never written after `+`.
_COUNTRY_CODES = ("7", _NORTH_AMERICAN_PREFIX)
_LONGEST_SHAPE = 5


def format_phones(text: str) -> str:
    """`text` with every phone number said as digit groups written `7(999)123-45-67` (see module doc)."""
    return _RUN.sub(lambda match: _format_run(match.group(0)), text)


def _format_run(run: str) -> str:
    plus = run.startswith("+")
    pieces = _SEPARATOR.split(run.removeprefix("+"))
    groups, separators = pieces[0::2], pieces[1::2]
    out: list[str] = []
    i = 0
    while i < len(groups):
        lead = "+" if plus and i == 0 else ""
        for size in range(min(_LONGEST_SHAPE, len(groups) - i), 0, -1):
            phone = _phone(groups[i : i + size], plus=bool(lead))
            if phone is not None:
                out.append(lead + phone)
                i += size
                break
        else:
            out.append(lead + groups[i])
            i += 1
        if i < len(groups):
            out.append(separators[i - 1])
    return "".join(out)


def _phone(groups: list[str], *, plus: bool) -> str | None:
    """The written phone number for exactly these digit groups, or None when they are not one."""
    if len(groups) == 1 and plus:
        digits = groups[0]
        if len(digits) != 11 or digits[0] not in _COUNTRY_CODES:
            return None
        groups = [digits[0], digits[1:4], digits[4:7], digits[7:]]
    lengths = [len(group) for group in groups]
    country = ""
    if lengths[:1] == [1] and len(groups) > 1:
        country, groups, lengths = groups[0], groups[1:], lengths[1:]
    if plus and country not in _COUNTRY_CODES:
        return None
    if lengths[:2] != [3, 3] or groups[0][0] in "01":
        return None
    area, exchange, rest = groups[0], groups[1], groups[2:]
    if lengths[2:] == [2, 2] and country in ("", *_RUSSIAN_PREFIXES):
        line = f"{rest[0]}-{rest[1]}"
    elif lengths[2:] == [4] and country in _RUSSIAN_PREFIXES:
        line = f"{rest[0][:2]}-{rest[0][2:]}"
    elif lengths[2:] == [4] and country in ("", _NORTH_AMERICAN_PREFIX):
        line = rest[0]
    else:
        return None
    return f"{country}({area}){exchange}-{line}"
