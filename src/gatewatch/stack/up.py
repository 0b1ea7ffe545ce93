"""What `gatewatch up` runs: generated configs under the data folder, and the components."""

import json
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gatewatch.config.rules import RulesTuning
from gatewatch.config.schema import FallbackConfig
from gatewatch.private_files import write_private
from gatewatch.rules.alertmanager_config import alertmanager_config
from gatewatch.rules.testing import build_packs
from gatewatch.stack.configs import demo_paging, gatewatch_config, prometheus_config, scaled
from gatewatch.stack.supervisor import Component

RUNBOOKS = Path("runbooks")  # the project's runbooks, when run from a checkout
GATEWAY_SECRET_FILE = "gateway-jwt.secret"


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
        write_private(path, secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def _write_yaml(path: Path, data: dict[str, Any], private: bool = False) -> Path:
    text = yaml.safe_dump(data, sort_keys=False)
    if private:
        write_private(path, text)
    else:
        path.write_text(text)
    return path


def plan_stack(
    data: Path,
    ports: StackPorts,
    time_scale: float,
    demo: bool,
    tuning: RulesTuning = RulesTuning(),
) -> list[Component]:
    """Write every config the stack needs (rules tuned by `tuning`) and return its
    components in start order."""
    data = data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    logs = data / "logs"
    ingest_token, admin_token = _token(data / "ingest.token"), _token(data / "admin.token")
    # The gateway's client-token secret: the load generator and the drills sign with it.
    gateway_env = {"IMGATEWAY_JWT_SECRET": _token(data / GATEWAY_SECRET_FILE)}
    local = "http://127.0.0.1"
    gatewatch_url = f"{local}:{ports.gatewatch}"
    gateway_url = f"{local}:{ports.gateway}"
    rule_files = build_packs(data / "rules", None, gatewatch_url, time_scale, tuning)

    prometheus_yml = _write_yaml(
        data / "prometheus.yml",
        prometheus_config(
            scaled("15s", time_scale),
            [str(path) for path in rule_files],
            f"127.0.0.1:{ports.alertmanager}",
            {
                "im-gateway": f"127.0.0.1:{ports.gateway}",
                "gatewatch": f"127.0.0.1:{ports.gatewatch}",
                "alertmanager": f"127.0.0.1:{ports.alertmanager}",
                "prometheus": f"127.0.0.1:{ports.prometheus}",
            },
        ),
    )
    config = gatewatch_config(
        listen=f"127.0.0.1:{ports.gatewatch}",
        external_url=gatewatch_url,
        storage_url=f"sqlite:///{data / 'gatewatch.db'}",
        tokens=[
            {"name": "alertmanager", "role": "ingest", "token": ingest_token},
            {"name": "admin", "role": "admin", "token": admin_token},
        ],
        prometheus_url=f"{local}:{ports.prometheus}",
        alertmanager_url=f"{local}:{ports.alertmanager}",
        gateway_url=gateway_url,
        # Long enough for Prometheus and Alertmanager to start after gatewatch does.
        heartbeat_interval=scaled("5m", time_scale, floor="15s"),
    )
    config |= {
        "data_dir": str(data),
        "runbooks_dir": str(RUNBOOKS.resolve()),
        # Budgets are shares of the SLO period; scaled down to hours, a stack minutes old
        # exhausts every budget in its first drill and the 80 % policy would hold the
        # gateway's breaker open for the rest of the run. Burn-rate alerts still fire.
        "slo": {"poll_interval": scaled("30s", time_scale), "enabled": time_scale == 1},
    }
    if demo:
        paging = demo_paging(
            f"{local}:{ports.standins}",
            ports.smtp,
            time_scale,
            _token(data / "slack-signing.secret"),
        )
        paging["channels"] = config["channels"] + paging["channels"]
        config |= paging
    # It holds the tokens and the Slack signing secret.
    gatewatch_yml = _write_yaml(data / "gatewatch.yml", config, private=True)
    fallback = FallbackConfig.model_validate(config.get("fallback", {})).receiver()
    am_config = alertmanager_config(gatewatch_url, ingest_token, fallback=fallback)
    for route in [am_config["route"], *am_config["route"]["routes"]]:
        for key in ("group_wait", "group_interval", "repeat_interval"):
            route[key] = scaled(route[key], time_scale, floor="0s" if key == "group_wait" else "1s")
    alertmanager_yml = _write_yaml(data / "alertmanager.yml", am_config, private=True)
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
            environment=gateway_env,
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
                # Alerts Prometheus sent stay active in Alertmanager for 4 resend delays: scaled,
                # so a stopped Prometheus silences the Watchdog within the drill's time.
                f"--rules.alert.resend-delay={scaled('1m', time_scale)}",
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
                environment=gateway_env,
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
