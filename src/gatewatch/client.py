"""A small typed client of gatewatch's REST API, used by the CLI."""

from typing import Any, Self

import httpx

from gatewatch.errors import GatewatchError


class ApiError(GatewatchError):
    """The server answered with an error, or could not be reached."""


class GatewatchClient:
    def __init__(self, url: str, token: str | None, timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(
                f"cannot reach gatewatch at {self.url}: {exc}",
                hint="start it with `gatewatch serve`, or point --url / GATEWATCH_URL at it",
            ) from exc
        if response.status_code == 204:
            return None
        if response.is_success:
            if response.headers.get("content-type", "").startswith("text/"):
                return response.text
            return response.json()
        try:
            body = response.json()
            message = body.get("error", response.text)
            details = "; ".join(f"{d['path']}: {d['message']}" for d in body.get("details", []))
        except (ValueError, AttributeError, KeyError, TypeError):
            message, details = response.text, ""
        hint = None
        if response.status_code == 401:
            hint = "pass --token or set GATEWATCH_TOKEN"
        raise ApiError(
            f"HTTP {response.status_code}: {message}" + (f" ({details})" if details else ""), hint
        )

    def alerts(self, filters: list[str], status: str) -> list[dict[str, Any]]:
        """Every matching alert, a page at a time."""
        items: list[dict[str, Any]] = []
        while True:
            params = {"filter": filters, "status": status, "limit": 1000, "offset": len(items)}
            body = self._request("GET", "/api/v1/alerts", params=params)
            items += body["items"]
            if not body["items"] or len(items) >= body["total"]:
                return items

    def incidents(
        self, statuses: list[str], severities: list[str], services: list[str], limit: int
    ) -> dict[str, Any]:
        params = {"status": statuses, "severity": severities, "service": services, "limit": limit}
        page: dict[str, Any] = self._request("GET", "/api/v1/incidents", params=params)
        return page

    def incident(self, incident_id: int) -> dict[str, Any]:
        detail: dict[str, Any] = self._request("GET", f"/api/v1/incidents/{incident_id}")
        return detail

    def act(self, incident_id: int, action: str, note: str | None) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "POST", f"/api/v1/incidents/{incident_id}/{action}", json={"note": note}
        )
        return result

    def act_on_many(
        self, action: str, incident_ids: list[int], matchers: str, note: str | None
    ) -> dict[str, Any]:
        body = {"action": action, "ids": incident_ids, "filter": matchers, "note": note}
        result: dict[str, Any] = self._request("POST", "/api/v1/incidents/bulk", json=body)
        return result

    def escalate(self, incident_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self._request("POST", f"/api/v1/incidents/{incident_id}/escalate")
        return result

    def note(self, incident_id: int, text: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "POST", f"/api/v1/incidents/{incident_id}/notes", json={"text": text}
        )
        return result

    def on_call(self, schedule: str | None, at: str | None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("schedule", schedule), ("at", at)) if v is not None}
        windows: list[dict[str, Any]] = self._request("GET", "/api/v1/oncall", params=params)
        return windows

    def add_override(
        self, schedule: str, person: str, start: str, end: str, layer: str | None = None
    ) -> dict[str, Any]:
        created: dict[str, Any] = self._request(
            "POST",
            f"/api/v1/schedules/{schedule}/overrides",
            json={"person": person, "start": start, "end": end, "layer": layer},
        )
        return created

    def overrides(self, schedule: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._request(
            "GET", f"/api/v1/schedules/{schedule}/overrides"
        )
        return found

    def change_override_end(self, override_id: int, end: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "PATCH", f"/api/v1/overrides/{override_id}", json={"end": end}
        )
        return result

    def delete_override(self, override_id: int) -> None:
        self._request("DELETE", f"/api/v1/overrides/{override_id}")

    def notifications(
        self, status: str | None, incident: int | None, limit: int
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if incident is not None:
            params["incident"] = incident
        found: list[dict[str, Any]] = self._request("GET", "/api/v1/notifications", params=params)
        return found

    def postmortem(self, incident_id: int) -> str:
        text: str = self._request("GET", f"/api/v1/incidents/{incident_id}/postmortem")
        return text

    def response_times(self, since: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._request(
            "GET", "/api/v1/reports/response-times", params={"since": since}
        )
        return rows

    def resend(self, notification_id: int) -> None:
        self._request("POST", f"/api/v1/notifications/{notification_id}/resend")
