"""A real Prometheus scrapes an exporter the test controls, with a pack built at time-scale
60, and the test watches an alert go pending, firing and resolved through its API."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from gatewatch.rules.testing import build_packs
from tests.support.ports import free_port
from tests.support.processes import PrometheusProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def exporter() -> Iterator[tuple[Gauge, str]]:
    registry = CollectorRegistry()
    gauge = Gauge("im_gateway_active_connections", "open connections", registry=registry)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield gauge, f"127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _state(prometheus: PrometheusProcess, name: str) -> str:
    states = [a["state"] for a in prometheus.alerts() if a["labels"]["alertname"] == name]
    return states[0] if states else "inactive"


def test_pack_alert_goes_pending_firing_resolved(
    tmp_path: Path, exporter: tuple[Gauge, str]
) -> None:
    gauge, address = exporter
    rules = build_packs(tmp_path / "rules", ["im-gateway"], "http://gatewatch.test", time_scale=60)
    prometheus = PrometheusProcess(tmp_path, {"im-gateway": [address]}, rules).start()
    try:
        gauge.set(150_000)  # TooManyActiveConnections: > 100k for 5m, i.e. 5s at scale 60
        eventually(
            lambda: _state(prometheus, "TooManyActiveConnections") == "pending",
            timeout=20,
            what="pending",
        )
        pending_at = time.monotonic()
        eventually(
            lambda: _state(prometheus, "TooManyActiveConnections") == "firing",
            timeout=20,
            what="firing",
        )
        assert time.monotonic() - pending_at >= 3  # waited (about) its scaled `for`
        [alert] = [
            a for a in prometheus.alerts() if a["labels"]["alertname"] == "TooManyActiveConnections"
        ]
        assert alert["labels"]["severity"] == "warning"
        assert alert["annotations"]["runbook_url"] == "http://gatewatch.test/runbooks/scale-out"
        assert alert["annotations"]["description"].startswith("150k active connections")
        gauge.set(10)
        eventually(
            lambda: _state(prometheus, "TooManyActiveConnections") == "inactive",
            timeout=20,
            what="resolved",
        )
    finally:
        prometheus.stop()
