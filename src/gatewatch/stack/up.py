"""What `gatewatch up` runs: generated configs under the data folder, and the components."""

import json
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gatewatch.durations import format_duration, parse_duration
from gatewatch.rules.alertmanager_config import alertmanager_config
from gatewatch.rules.testing import build_packs
from gatewatch.stack.supervisor import Component

RUNBOOKS = Path("runbooks")  # the project's runbooks, when run from a checkout


@dataclass(frozen=True)
class StackPorts:
    gateway: int = 8080
    gatewatch: int = 8787
    alertmanager: int = 9093
    prometheus: int = 9090
    standins: int = 8025
    smtp: int = 2525

    @classmethod
    def free(cls) -> "StackPorts":
        def pick() -> int:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port: int = sock.getsockname()[1]
                return port

        return cls(pick(), pick(), pick(), pick(), pick(), pick())


def _token(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _scaled(text: str, scale: float, floor: str = "1s") -> str:
    scaled = parse_duration(text) / scale
    return format_duration(max(scaled, parse_duration(floor)))


def _write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# The demo's on-call team: Alice is primary, Bob secondary, Dana the manager.
DEMO_PEOPLE = [
    {"id": "alice", "name": "Alice Chen", "email": "alice@im.example", "slack_user_id": "UALICE"},
    {"id": "bob", "name": "Bob Okafor", "email": "bob@im.example", "slack_user_id": "UBOB"},
    {"id": "dana", "name": "Dana Kim", "email": "dana@im.example", "slack_user_id": "UDANA"},
]
DEMO_ROUTING_KEY = "D3m0000000000000000000000000demo"


def demo_paging(ports: StackPorts, time_scale: float) -> dict[str, Any]:
    """People, schedules, stand-in channels, severities, policies and routes of the demo, in
    the shape of deploy/gatewatch.example.yml, with every delay divided by the time scale."""

    def scaled(text: str) -> str:
        return _scaled(text, time_scale, floor="0s")

    def step(after: str, target: str) -> dict[str, Any]:
        return {"after": scaled(after), "targets": [target]}

    standins = f"http://127.0.0.1:{ports.standins}"
    return {
        "people": DEMO_PEOPLE,
        "schedules": [
            {
                "id": schedule,
                "layers": [{"rotation": [who], "shift": "1w", "handoff": "2026-01-05T09:00:00"}],
            }
            for schedule, who in (("im-primary", "alice"), ("im-secondary", "bob"))
        ],
        "channels": [
            {
                "id": "slack",
                "type": "slack",
                "webhook_url": f"{standins}/slack/services/T0DEMO/B0DEMO/demo",
                "signing_secret": secrets.token_hex(16),
                "rate_per_second": 20,
                "burst": 20,
            },
            {
                "id": "pagerduty",
                "type": "pagerduty",
                "routing_key": DEMO_ROUTING_KEY,
                "url": f"{standins}/pagerduty/v2/enqueue",
            },
            {
                "id": "email",
                "type": "email",
                "host": "127.0.0.1",
                "port": ports.smtp,
                "from": "gatewatch@im.example",
                "to": ["im-oncall@im.example"],
            },
        ],
        "severities": [
            {"name": "critical", "channels": ["pagerduty", "slack", "email"]},
            {"name": "P1", "channels": ["pagerduty", "slack"]},
            {"name": "P2", "channels": ["slack"], "reminder_after": scaled("2h")},
            {"name": "warning", "channels": ["slack"]},
            {"name": "info", "channels": ["slack"]},
        ],
        "policies": {
            "page-now": {
                "description": "critical: primary at once, secondary after 15m, manager after 30m",
                "steps": [
                    step("0s", "schedule:im-primary"),
                    step("15m", "schedule:im-secondary"),
                    step("30m", "person:dana"),
                ],
                "ack_timeout": scaled("30m"),
            },
            "page-p1": {
                "description": "P1: primary at once, secondary after 30m",
                "steps": [step("0s", "schedule:im-primary"), step("30m", "schedule:im-secondary")],
                "ack_timeout": scaled("1h"),
            },
            "remind-p2": {"description": "P2: Slack, reminded after 2h"},
            "business-hours": {"description": "warning and info: reviewed in business hours"},
        },
        "routes": [
            {
                "name": "slo-burn",
                "matchers": ['slo=~".+"', 'severity="critical"'],
                "group_by": ["slo", "service"],
                "policy": "page-now",
            },
            *(
                {"name": name, "matchers": [f'severity="{level}"'], "group_by": ["alertname"]}
                | {"policy": policy}
                for name, level, policy in (
                    ("critical", "critical", "page-now"),
                    ("p1", "P1", "page-p1"),
                    ("p2", "P2", "remind-p2"),
                )
            ),
        ],
        "default_policy": "business-hours",
        "delivery": {"backoff_initial": "200ms", "backoff_max": "5s"},
        "scheduler": {"poll_interval": "200ms"},
    }


def plan_stack(data: Path, ports: StackPorts, time_scale: float, demo: bool) -> list[Component]:
    """Write every config the stack needs and return its components in start order."""
    data = data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    logs = data / "logs"
    ingest_token, admin_token = _token(data / "ingest.token"), _token(data / "admin.token")
    local = "http://127.0.0.1"
    gatewatch_url = f"{local}:{ports.gatewatch}"
    gateway_url = f"{local}:{ports.gateway}"
    rule_files = build_packs(data / "rules", None, gatewatch_url, time_scale)

    interval = _scaled("15s", time_scale)
    prometheus_yml = _write_yaml(
        data / "prometheus.yml",
        {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(path) for path in rule_files],
            "alerting": {
                "alertmanagers": [
                    {"static_configs": [{"targets": [f"127.0.0.1:{ports.alertmanager}"]}]}
                ]
            },
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                for job, port in (
                    ("im-gateway", ports.gateway),
                    ("gatewatch", ports.gatewatch),
                    ("alertmanager", ports.alertmanager),
                    ("prometheus", ports.prometheus),
                )
            ],
        },
    )
    am_config = alertmanager_config(gatewatch_url, ingest_token)
    for route in [am_config["route"], *am_config["route"]["routes"]]:
        for key in ("group_wait", "group_interval", "repeat_interval"):
            route[key] = _scaled(
                route[key], time_scale, floor="0s" if key == "group_wait" else "1s"
            )
    alertmanager_yml = _write_yaml(data / "alertmanager.yml", am_config)
    alertmanager_yml.chmod(0o600)
    gatewatch_config: dict[str, Any] = {
        "listen": f"127.0.0.1:{ports.gatewatch}",
        "external_url": gatewatch_url,
        "data_dir": str(data),
        "runbooks_dir": str(RUNBOOKS.resolve()),
        "storage": {"url": f"sqlite:///{data / 'gatewatch.db'}"},
        "auth": {
            "tokens": [
                {"name": "alertmanager", "role": "ingest", "token": ingest_token},
                {"name": "admin", "role": "admin", "token": admin_token},
            ]
        },
        "prometheus": {"url": f"{local}:{ports.prometheus}"},
        "alertmanager": {"url": f"{local}:{ports.alertmanager}"},
        "channels": [
            {
                "id": "circuit-breaker",
                "type": "action",
                "url": f"{gateway_url}/admin/circuit-breaker",
                "trigger": {"state": "open"},
                "resolve": {"state": "closed"},
            }
        ],
        "severities": [{"name": level} for level in ("critical", "P1", "P2", "warning", "info")],
        # Budgets are shares of the SLO period; scaled down to hours, a stack minutes old
        # exhausts every budget in its first drill and the 80 % policy would hold the
        # gateway's breaker open for the rest of the run. Burn-rate alerts still fire.
        "slo": {"poll_interval": _scaled("30s", time_scale), "enabled": time_scale == 1},
    }
    if demo:
        paging = demo_paging(ports, time_scale)
        paging["channels"] = gatewatch_config["channels"] + paging["channels"]
        gatewatch_config |= paging
    gatewatch_yml = _write_yaml(data / "gatewatch.yml", gatewatch_config)
    python = sys.executable
    components = [
        Component(
            "gateway",
            [
                python,
                "-m",
                "imgateway",
                "serve",
                "--listen",
                f"127.0.0.1:{ports.gateway}",
                "--enable-test-endpoints",
                "--store",
                f"sqlite:///{data / 'offline.db'}",
            ],
            gateway_url,
            "/health",
            logs / "gateway.log",
        ),
        Component(
            "gatewatch",
            [
                python,
                "-m",
                "gatewatch",
                "serve",
                "--config",
                str(gatewatch_yml),
                "--log-level",
                "warning",
            ],
            gatewatch_url,
            "/readyz",
            logs / "gatewatch.log",
        ),
        Component(
            "alertmanager",
            [
                "prometheus-alertmanager",
                f"--config.file={alertmanager_yml}",
                f"--storage.path={data / 'alertmanager'}",
                f"--web.listen-address=127.0.0.1:{ports.alertmanager}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            f"{local}:{ports.alertmanager}",
            "/-/ready",
            logs / "alertmanager.log",
        ),
        Component(
            "prometheus",
            [
                "prometheus",
                f"--config.file={prometheus_yml}",
                f"--storage.tsdb.path={data / 'prometheus'}",
                f"--web.listen-address=127.0.0.1:{ports.prometheus}",
                "--log.level=warn",
            ],
            f"{local}:{ports.prometheus}",
            "/-/ready",
            logs / "prometheus.log",
        ),
    ]
    if demo:
        components.insert(
            0,
            Component(
                "standins",
                [
                    python,
                    "-m",
                    "gatewatch",
                    "standins",
                    "--listen",
                    f"127.0.0.1:{ports.standins}",
                    "--smtp-port",
                    str(ports.smtp),
                    "--record",
                    str(data / "received.jsonl"),
                ],
                f"{local}:{ports.standins}",
                "/received",
                logs / "standins.log",
            ),
        )
        components.append(
            Component(
                "load",
                [
                    python,
                    "-m",
                    "imgateway",
                    "load",
                    "--url",
                    f"ws://127.0.0.1:{ports.gateway}/ws",
                    "--users",
                    "50",
                    "--rate",
                    "20",
                    "--duration",
                    "1440m",
                ],
                "",
                "",
                logs / "load.log",
                depends_on=("gateway",),
            )
        )
    return components


def write_state(data: Path, components: list[Component]) -> None:
    """data/stack.json: what runs where, for people and scripts."""
    state = {
        c.name: {"url": c.url, "pid": c.pid, "restarts": c.restarts, "log": str(c.log_file)}
        for c in components
    }
    (data / "stack.json").write_text(json.dumps(state, indent=2))
