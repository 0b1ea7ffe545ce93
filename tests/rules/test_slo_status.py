"""`gatewatch slo status` against a live Prometheus that evaluates the generated SLO rules."""

import itertools
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)

from gatewatch.clock import SystemClock
from gatewatch.config import GatewatchConfig
from gatewatch.rules.packs import render_pack
from gatewatch.slo.burndown import budget_history
from gatewatch.slo.monitor import SloMonitor
from gatewatch.slo.shipped import shipped_slo_packs, shipped_specs
from gatewatch.store.database import create_database_engine, migrate
from gatewatch.store.incidents import IncidentFilter
from gatewatch.web.ui.charts import budget_chart
from gatewatch.wiring.services import build_services
from tests.support.ports import free_port
from tests.support.processes import PrometheusProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

LOSS_RATIO = 0.00007  # 70% of the 0.01% message-loss budget: 30% left, "Warning"


@pytest.fixture
def exporter() -> Iterator[str]:
    """received grows 100 per tick and lost 100 x LOSS_RATIO: a steady loss ratio."""
    registry = CollectorRegistry()
    received = Counter("im_gateway_messages_received", "received", registry=registry)
    lost = Counter("im_gateway_messages_lost", "lost", registry=registry)
    # Buckets without 0.2: the P99 < 200ms SLI cannot be computed from this histogram.
    latency = Histogram(
        "im_gateway_message_delivery_latency_seconds",
        "latency",
        buckets=(0.1, 0.25, 1.0),
        registry=registry,
    )
    latency.observe(0.05)
    redis_latency = Histogram(
        "redis_gateway_request_duration_seconds",
        "latency",
        buckets=(0.1, 0.5, 1.0),
        registry=registry,
    )
    redis_latency.observe(0.05)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.05):
            received.inc(100)
            lost.inc(100 * LOSS_RATIO)

    ticker = threading.Thread(target=tick)
    ticker.start()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield f"127.0.0.1:{port}"
    stop.set()
    ticker.join()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _status(prometheus: PrometheusProcess) -> dict[str, dict[str, Any]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gatewatch",
            "slo",
            "status",
            "--prometheus",
            prometheus.url,
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {f"{s['service']}/{s['slo']}": s for s in json.loads(result.stdout)}


def test_status_reports_the_budget_the_error_rate_implies(tmp_path: Path, exporter: str) -> None:
    rule_files = []
    for pack in shipped_slo_packs():
        path = tmp_path / f"{pack.name}.yml"
        path.write_text(render_pack(pack, "http://gatewatch.test", time_scale=60))
        rule_files.append(path)
    prometheus = PrometheusProcess(tmp_path, {"im-gateway": [exporter]}, rule_files).start()
    try:

        def loss_with_data() -> dict[str, Any] | None:
            loss = _status(prometheus)["im-gateway/message-loss"]
            return loss if loss["error_budget_remaining"] is not None else None

        loss = eventually(loss_with_data, timeout=40, what="SLO data")
        expected_remaining = 1 - LOSS_RATIO / 0.0001  # computed here, not read from gatewatch
        assert loss["error_budget_remaining"] == pytest.approx(expected_remaining, abs=0.05)
        assert loss["sli"] == pytest.approx(1 - LOSS_RATIO, abs=1e-5)
        assert loss["burn_rates"]["1h"] == pytest.approx(LOSS_RATIO / 0.0001, rel=0.1)
        assert loss["status"] == "Warning"
        # No delivery traffic at all: no data, never 100%.
        availability = _status(prometheus)["im-gateway/availability"]
        assert (availability["status"], availability["sli"]) == ("no data", None)
        latency = _status(prometheus)["im-gateway/delivery-latency"]
        assert latency["status"] == "misconfigured"
        redis = _status(prometheus)["redis-gateway/latency"]
        assert (redis["status"], redis["problems"]) == ("no data", [])
        assert latency["problems"] == [
            'im_gateway_message_delivery_latency_seconds has no bucket le=~"0\\\\.2(0*)?" '
            "(buckets: +Inf, 0.1, 0.25, 1.0)"
        ]
        _burn_down_follows_the_budget(prometheus, expected_remaining)
        _monitor_pages_the_consumed_budget(prometheus, tmp_path)
    finally:
        prometheus.stop()


def _burn_down_follows_the_budget(prometheus: PrometheusProcess, expected: float) -> None:
    """The chart's series is Prometheus's own history of the period ratio."""
    spec = next(s for s in shipped_specs() if s.service == "im-gateway")
    slo = next(s for s in spec.slos if s.name == "message-loss")
    with httpx.Client(timeout=5) as http:
        points = budget_history(prometheus.url, spec, slo, http, span_seconds=20)
    assert len(points) >= 2
    assert points[-1].remaining == pytest.approx(expected, abs=0.05)
    assert all(a.at < b.at for a, b in itertools.pairwise(points))
    chart = str(budget_chart(points))
    assert chart.count(",") >= len(points) and "<polyline" in chart
    assert f"{points[-1].remaining * 100:.1f} % of the error budget left" in chart


def _monitor_pages_the_consumed_budget(prometheus: PrometheusProcess, tmp_path: Path) -> None:
    """70% of the budget used: the 50% policy fires into gatewatch's ingest, the 80% does not;
    the gauges show the budget."""
    config = GatewatchConfig.model_validate(
        {
            "storage": {"url": f"sqlite:///{tmp_path}/gw.db"},
            "prometheus": {"url": prometheus.url},
            "external_url": "http://gatewatch.test",
        }
    )
    database = create_database_engine(config.database_url)
    migrate(database)
    services = build_services(config, database, SystemClock())
    monitor = SloMonitor(
        shipped_specs(),
        config.prometheus.url,
        config.external_url,
        services.incidents.ingest,
        services.runtime.clock,
        services.runtime.metrics,
    )
    with httpx.Client(timeout=10) as http:
        assert monitor.run_once(http) >= 1
    incidents, _ = services.incidents.list_incidents(IncidentFilter(), 10, 0)
    consumed = [i for i in incidents if i.title.startswith("im-gateway message-loss")]
    assert [(i.title, i.severity) for i in consumed] == [
        ("im-gateway message-loss: 50% of the error budget used", "warning")
    ]
    detail = services.incidents.detail(consumed[0].id)
    assert detail.alerts[0].labels["budget_consumed"] == "50%"
    exposition = generate_latest(services.runtime.metrics.registry).decode()
    line = next(
        row
        for row in exposition.splitlines()
        if row.startswith(
            'gatewatch_slo_error_budget_remaining_ratio{service="im-gateway",slo="message-loss"}'
        )
    )
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(1 - LOSS_RATIO / 0.0001, abs=0.05)
    assert 'gatewatch_slo_burn_rate{service="im-gateway",slo="message-loss",window="1h"}' in (
        exposition
    )
    database.dispose()
