"""How long each string a request carries may be, and how much of a client's input a message quotes back.

Both doors check these where requests are parsed (`wire/lengths.py` walks every string of a request message;
the caller's folder and idempotency key are checked in `service/caller.py`), so that nothing a client sends is
stored or echoed at a size it chose. docs/security.md lists them.
"""

from __future__ import annotations

#: An audio link (`uri`): long enough for presigned S3 and signed http links.
MAX_URI = 8192
#: A language code (`languageCode`, each of `languageRestriction.languageCode`).
MAX_LANGUAGE_CODE = 64
#: A model name (`model`).
MAX_MODEL = 256
#: A folder id (`config.folderId`, `x-folder-id`): ids are 20 characters.
MAX_FOLDER_ID = 64
#: An idempotency key (`Idempotency-Key`, `idempotency-key`): the store column's width.
MAX_IDEMPOTENCY_KEY = 255
#: Any other string field of a request message (classifier names, summarization instructions, …).
MAX_STRING = 4096
#: Items in any repeated field of a request message (language codes, classifiers, quantiles, …).
MAX_REPEATED = 128
#: Nesting of a JSON request body: objects and arrays inside each other.
MAX_JSON_DEPTH = 32
#: Characters of a client's input quoted in an error message; longer input is cut with its length said.
MAX_QUOTED = 200


def quoted(value: str, limit: int = MAX_QUOTED) -> str:
    """`value` as a message may quote it: whole up to `limit` characters, else its start and its length."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value)} characters)"
