"""What a drill looks at in a live stack: Prometheus's and Alertmanager's alerts, gatewatch's
incidents, what the stand-ins received, the gateway's /stats. Read-only HTTP, one place."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from gatewatch.drills.faults import GatewayAccess


@dataclass(frozen=True)
class StackEndpoints:
    prometheus: str
    alertmanager: str
    gatewatch: str
    standins: str
    gateway: GatewayAccess
    admin_token: str


class StackProbe:
    def __init__(self, endpoints: StackEndpoints, client: httpx.AsyncClient) -> None:
        self.endpoints = endpoints
        self.client = client

    async def prometheus_alerts(self, wanted: dict[str, str]) -> list[dict[str, Any]]:
        response = await self.client.get(f"{self.endpoints.prometheus}/api/v1/alerts")
        response.raise_for_status()
        return [
            alert
            for alert in response.json()["data"]["alerts"]
            if all(alert["labels"].get(k) == v for k, v in wanted.items())
        ]

    async def alertmanager_receivers(self, wanted: dict[str, str]) -> list[str]:
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("filter", f'{k}="{v}"') for k, v in wanted.items()
        ]
        response = await self.client.get(
            f"{self.endpoints.alertmanager}/api/v2/alerts",
            params=[*params, ("active", "true")],
        )
        response.raise_for_status()
        return sorted({r["name"] for a in response.json() for r in a["receivers"]})

    async def gatewatch(self, path: str) -> Any:
        response = await self.client.get(
            f"{self.endpoints.gatewatch}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.endpoints.admin_token}"},
        )
        response.raise_for_status()
        return response.json()

    async def open_incident(self, wanted: dict[str, str], since: float) -> dict[str, Any] | None:
        """An open incident triggered after `since` holding an alert with these labels."""
        page = await self.gatewatch("/incidents?status=open")
        for item in page["items"]:
            if datetime.fromisoformat(item["triggered_at"]).timestamp() < since - 1:
                continue
            detail: dict[str, Any] = await self.gatewatch(f"/incidents/{item['id']}")
            if any(
                all(alert["labels"].get(k) == v for k, v in wanted.items())
                for alert in detail["alerts"]
            ):
                return detail
        return None

    async def received(self, since_seq: int, incident: int | None) -> list[dict[str, Any]]:
        """What the stand-ins received about `incident` after sequence number `since_seq`."""
        response = await self.client.get(
            f"{self.endpoints.standins}/received", params={"since": since_seq}
        )
        response.raise_for_status()
        return [item for item in response.json() if item["incident"] == incident]

    async def standins_seq(self) -> int:
        response = await self.client.get(f"{self.endpoints.standins}/received")
        response.raise_for_status()
        items = response.json()
        return int(items[-1]["seq"]) if items else 0

    async def gateway_stats(self) -> dict[str, Any]:
        response = await self.client.get(f"{self.endpoints.gateway.url}/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats
