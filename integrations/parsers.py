"""The API's JSON parser: DRF's, refusing documents no database can store and no code can safely walk.

JSON can spell things that are not text: ``"\\ud800"`` decodes to a lone surrogate, which UTF-8 cannot
encode, so SQLite, PostgreSQL and our own JSON responses all fail on it (an error message that echoes the
value fails too). And a document nested thousands deep exhausts Python's recursion, in the decoder or in
any code that walks it later. Both are refused here, for every view, before any serializer sees them:
a 400 whose message names where in the document the problem is (``answers.job_title``). A NUL character
is text and stays the fields' own business: each field refuses it with its own message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far deeper than any payload we accept needs, and shallow enough for recursive code (a serializer, the
# database's JSON encoder) to walk with the request's stack already in use.
MAX_DEPTH = 32

# json decodes an escaped surrogate pair into one character, so any surrogate left is a lone one.
_SURROGATE = re.compile("[\ud800-\udfff]")

Path = tuple[str | int, ...]


class StrictJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.") from error
        problem = unstorable_part(data)
        if problem:
            raise ParseError(f"JSON parse error - {problem}")
        return data


def unstorable_part(data: object) -> str | None:
    """Where ``data`` (decoded JSON) nests too deep or holds a lone surrogate, and why; None if nowhere.

    Walks with its own stack rather than recursion, because deep data is what it looks for.
    """
    stack: list[tuple[object, Path]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return f"{_name(path[:3])}: nested more than {MAX_DEPTH} levels deep."
        if isinstance(value, str):
            problem = _surrogate_problem(value)
            if problem:
                return f"{_name(path)}: {problem}"
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _surrogate_problem(key)
                if problem:
                    # The key itself cannot be printed in the message: name the object that holds it.
                    return f"a key of {_name(path)}: {problem}"
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return None


def _surrogate_problem(text: str) -> str | None:
    found = _SURROGATE.search(text)
    # The same words as DRF's CharField, which refuses surrogates in the fields it sees.
    return f"Surrogate characters are not allowed: U+{ord(found.group()):X}." if found else None


def _name(path: Path) -> str:
    """``answers.job_title`` or ``[1].metadata.note``, as the views name fields in their own errors."""
    if not path:
        return "the request body"
    parts = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in path]
    return "".join(parts).removeprefix(".")
