"""Alertmanager's own silences, through its API v2: gatewatch lists, creates and expires them
but never keeps a copy, so amtool and Alertmanager's UI see the same thing."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from gatewatch.errors import GatewatchError
from gatewatch.timestamps import parse_rfc3339

STATE_ORDER = {"active": 0, "pending": 1, "expired": 2}


class AlertmanagerUnavailable(GatewatchError):
    """Alertmanager did not answer, or refused the request."""


@dataclass(frozen=True)
class Silence:
    id: str
    state: str
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


def _matcher_text(matcher: dict[str, Any]) -> str:
    equal = matcher.get("isEqual", True)
    operator = ("=~" if equal else "!~") if matcher.get("isRegex") else ("=" if equal else "!=")
    return f'{matcher["name"]}{operator}"{matcher["value"]}"'


class SilenceClient:
    def __init__(self, base_url: str, http: httpx.Client) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/api/v2{path}"
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise AlertmanagerUnavailable(
                f"Alertmanager at {self.base_url} did not answer: {exc}",
                hint="check alertmanager.url in the config and that Alertmanager runs",
            ) from exc
        if not response.is_success:
            raise AlertmanagerUnavailable(
                f"Alertmanager refused {method} {path}: "
                f"{response.status_code} {response.text[:200]}"
            )
        return response.json() if response.content else None

    def list(self) -> list[Silence]:
        silences = [
            Silence(
                id=item["id"],
                state=item["status"]["state"],
                matchers=[_matcher_text(m) for m in item["matchers"]],
                starts_at=parse_rfc3339(item["startsAt"]),
                ends_at=parse_rfc3339(item["endsAt"]),
                created_by=item.get("createdBy", ""),
                comment=item.get("comment", ""),
            )
            for item in self._call("GET", "/silences")
        ]
        return sorted(silences, key=lambda s: (STATE_ORDER.get(s.state, 3), s.ends_at))

    def create(
        self, labels: dict[str, str], duration: timedelta, comment: str, created_by: str
    ) -> str:
        """Silence exactly these label values (equality matchers) from now for `duration`."""
        now = datetime.now(UTC)
        body = {
            "matchers": [
                {"name": name, "value": value, "isRegex": False, "isEqual": True}
                for name, value in sorted(labels.items())
            ],
            "startsAt": now.isoformat(),
            "endsAt": (now + duration).isoformat(),
            "createdBy": created_by,
            "comment": comment,
        }
        return str(self._call("POST", "/silences", json=body)["silenceID"])

    def expire(self, silence_id: str) -> None:
        self._call("DELETE", f"/silence/{silence_id}")
