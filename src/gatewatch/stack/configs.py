"""The configs a stack runs with, as pure functions shared by `gatewatch up` (loopback
processes) and `gatewatch compose` (containers): Prometheus's scrape and alerting config,
gatewatch's own config, and the demo team's paging."""

from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

from gatewatch.durations import format_duration, parse_duration

SEVERITY_NAMES = ("critical", "P1", "P2", "warning", "info")
DEMO_ROUTING_KEY = "D3m0000000000000000000000000demo"
# Delays in the demo team's file that --time-scale divides.
_SCALED_KEYS = ("after", "ack_timeout", "reminder_after")


def scaled(text: str, scale: float, floor: str = "1s") -> str:
    """A duration divided by the time scale, never below `floor`."""
    return format_duration(max(parse_duration(text) / scale, parse_duration(floor)))


def prometheus_config(
    interval: str, rule_files: list[str], alertmanager: str, targets: Mapping[str, str]
) -> dict[str, Any]:
    """Scrape every component (job name → host:port) and send alerts to one Alertmanager."""
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": rule_files,
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()
        ],
    }


def gatewatch_config(
    *,
    listen: str,
    external_url: str,
    storage_url: str,
    tokens: list[dict[str, str]],
    prometheus_url: str,
    alertmanager_url: str,
    gateway_url: str,
    heartbeat_interval: str = "5m",
) -> dict[str, Any]:
    """gatewatch watching the reference gateway, with the gateway's circuit breaker as an
    automated action and Prometheus's Watchdog as the pipeline's heartbeat."""
    return {
        "listen": listen,
        "external_url": external_url,
        "storage": {"url": storage_url},
        "auth": {"tokens": tokens},
        "prometheus": {"url": prometheus_url},
        "alertmanager": {"url": alertmanager_url},
        "channels": [
            {
                "id": "circuit-breaker",
                "type": "action",
                "url": f"{gateway_url}/admin/circuit-breaker",
                "trigger": {"state": "open"},
                "resolve": {"state": "closed"},
            }
        ],
        "severities": [{"name": level} for level in SEVERITY_NAMES],
        "heartbeats": [
            {
                "name": "prometheus-alertmanager",
                "matchers": ['alertname="Watchdog"'],
                "interval": heartbeat_interval,
            }
        ],
    }


def _scale_delays(node: Any, scale: float) -> Any:
    if isinstance(node, dict):
        return {
            key: scaled(value, scale, floor="0s")
            if key in _SCALED_KEYS
            else _scale_delays(value, scale)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_scale_delays(item, scale) for item in node]
    return node


def demo_paging(
    standins_url: str, smtp_port: int, time_scale: float, slack_signing_secret: str
) -> dict[str, Any]:
    """The demo team (stack/demo_team.yml) paged through the local stand-ins, with every
    delay divided by the time scale."""
    team = yaml.safe_load((resources.files("gatewatch.stack") / "demo_team.yml").read_text())
    paging: dict[str, Any] = _scale_delays(team, time_scale)
    paging["channels"] = [
        {
            "id": "slack",
            "type": "slack",
            "webhook_url": f"{standins_url}/slack/services/T0DEMO/B0DEMO/demo",
            "signing_secret": slack_signing_secret,
            "rate_per_second": 20,
            "burst": 20,
        },
        {
            "id": "pagerduty",
            "type": "pagerduty",
            "routing_key": DEMO_ROUTING_KEY,
            "url": f"{standins_url}/pagerduty/v2/enqueue",
        },
        {
            "id": "email",
            "type": "email",
            "host": "127.0.0.1",
            "port": smtp_port,
            "from": "gatewatch@im.example",
            "to": ["im-oncall@im.example"],
        },
    ]
    # When gatewatch itself is down, Alertmanager mails the team through the same server.
    paging["fallback"] = {
        "email_to": ["im-oncall@im.example"],
        "email_from": "alertmanager@im.example",
        "smarthost": f"127.0.0.1:{smtp_port}",
        "require_tls": False,
    }
    return paging
