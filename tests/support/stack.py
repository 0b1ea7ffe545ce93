"""Reading a `gatewatch up` stack from outside, as a person or script would: its state file
and its components' health URLs."""

import json
from pathlib import Path
from typing import Any

import httpx


def stack_state(data: Path) -> dict[str, Any]:
    """data/stack.json once every component has started (a pid each), else {}."""
    try:
        state: dict[str, Any] = json.loads((data / "stack.json").read_text())
    except (OSError, ValueError):
        return {}
    return state if all(component.get("pid") for component in state.values()) else {}


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
