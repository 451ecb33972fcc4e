"""The web app's typed API client is generated from the OpenAPI document committed in web/; it must
be the API's document as it is now, or the UI is typed against an API that no longer exists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentflow.app import openapi_document

COMMITTED = Path(__file__).resolve().parents[1] / "web" / "src" / "lib" / "api" / "openapi.json"
REGENERATE = ".venv/bin/agentflow openapi -o web/src/lib/api/openapi.json && (cd web && npm run api:generate)"


def differences(committed: Any, current: Any, where: str = "", depth: int = 3) -> list[str]:
    """Where the two documents differ, as JSON pointers at most `depth` levels deep."""
    if committed == current:
        return []
    if depth == 0 or not (isinstance(committed, dict) and isinstance(current, dict)):
        return [where or "/"]
    found: list[str] = []
    for key in sorted(committed.keys() | current.keys()):
        pointer = f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if key not in current:
            found.append(f"{pointer} (only in the committed document)")
        elif key not in committed:
            found.append(f"{pointer} (new in the API)")
        else:
            found += differences(committed[key], current[key], pointer, depth - 1)
    return found


def test_the_committed_openapi_document_is_the_apis() -> None:
    assert COMMITTED.is_file(), f"{COMMITTED} is missing; create it with: {REGENERATE}"
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    current = openapi_document()
    changed = differences(committed, current)
    assert not changed, (
        "web/src/lib/api/openapi.json is not the API's OpenAPI document; regenerate it and the web "
        f"app's typed client with:\n    {REGENERATE}\nDiffering: " + ", ".join(changed[:20])
    )
