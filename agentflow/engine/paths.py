"""JSON paths for issues and template references, e.g. `config.categories[1].key`.

Keys that are identifiers are joined with a dot; other keys (`x-api-key`, `a.b`) are written as a
bracketed JSON string so the path stays unambiguous: `config.params["x-api-key"]`.
"""

from __future__ import annotations

import json
import re

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def child_path(parent: str, key: str | int) -> str:
    """The path of `key` inside the value at `parent` ("" is the root)."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{json.dumps(key, ensure_ascii=False)}]"


def join_path(parent: str, keys: tuple[str | int, ...] | list[str | int]) -> str:
    path = parent
    for key in keys:
        path = child_path(path, key)
    return path
