"""Every alert of every pack is valid, carries what paging needs, and is proved by promtool."""

import re
from pathlib import Path

import pytest
import yaml

from gatewatch.rules.kubernetes import manifests
from gatewatch.rules.packs import (
    REQUIRED_ANNOTATIONS,
    REQUIRED_LABELS,
    RulePack,
    RulePackError,
    load_pack,
    pack_names,
    pack_problems,
    render_pack,
)
from gatewatch.rules.promtool import run_tool
from gatewatch.rules.testing import build_packs, check_rules, run_rule_tests
from gatewatch.slo.shipped import shipped_slo_packs

HERE = Path(__file__).parent
SEED_000_ALERTS = {
    "HighMessageDeliveryLatency": ("P1", "5m"),
    "HighMessageLossRate": ("critical", "2m"),
    "HighAckTimeoutRate": ("P2", "5m"),
    "HighConnectionErrorRate": ("warning", "5m"),
    "TooManyActiveConnections": ("warning", "5m"),
    "HighOfflineQueueBacklog": ("warning", "10m"),
    "LowCacheHitRate": ("warning", "10m"),
    "HighMessageDuplicationRate": ("warning", "10m"),
    "IMGatewayServiceDown": ("critical", "1m"),
}
SEED_004_ALERTS = {
    "IMGatewayNodeDown",
    "MessageDeliveryFailureRateHigh",
    "MySQLDown",
    "MySQLHighConnectionErrors",
    "KafkaBrokerDown",
    "KafkaHighProducerErrors",
}


def _tested_alerts() -> dict[str, set[str]]:
    """alertname -> {"fires", "quiet"} as covered by the promtool test files."""
    covered: dict[str, set[str]] = {}
    for path in HERE.glob("*.test.yml"):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                kind = "fires" if case["exp_alerts"] else "quiet"
                covered.setdefault(case["alertname"], set()).add(kind)
    return covered


ALL_PACKS = [load_pack(name) for name in pack_names()] + shipped_slo_packs()
# Heartbeats fire by design at every moment; there is no quiet case to test.
ALWAYS_FIRING = {"Watchdog"}


@pytest.mark.parametrize("pack", ALL_PACKS, ids=[p.name for p in ALL_PACKS])
def test_every_alert_has_a_firing_and_a_quiet_test(pack: RulePack) -> None:
    covered = _tested_alerts()
    missing = [
        rule["alert"]
        for rule in pack.alerts()
        if covered.get(rule["alert"])
        != ({"fires"} if rule["alert"] in ALWAYS_FIRING else {"fires", "quiet"})
    ]
    assert missing == [], f"alerts without a firing and a quiet promtool test: {missing}"


def test_im_gateway_pack_has_the_seed_alerts_with_their_severity_and_for() -> None:
    alerts = {rule["alert"]: rule for rule in load_pack("im-gateway").alerts()}
    for alert, (severity, duration) in SEED_000_ALERTS.items():
        assert (alerts[alert]["labels"]["severity"], alerts[alert]["for"]) == (severity, duration)
    assert set(alerts) >= SEED_004_ALERTS


@pytest.mark.parametrize("name", pack_names())
def test_alerts_carry_routing_labels_and_runbook_links(name: str) -> None:
    rendered = yaml.safe_load(render_pack(load_pack(name), "https://gw.example/"))
    for group in rendered["groups"]:
        for rule in (r for r in group["rules"] if "alert" in r):
            assert set(REQUIRED_LABELS) <= set(rule["labels"])
            assert set(REQUIRED_ANNOTATIONS) <= set(rule["annotations"])
            assert rule["annotations"]["runbook_url"].startswith("https://gw.example/runbooks/")


def test_promtool_accepts_every_pack_and_its_unit_tests_pass(tmp_path: Path) -> None:
    files = build_packs(tmp_path / "plain", None, "http://gatewatch.test")
    assert "SUCCESS" in check_rules(files)
    assert "SUCCESS" in run_rule_tests(HERE, tmp_path / "tests")


def test_time_scale_shrinks_for_and_windows_only(tmp_path: Path) -> None:
    [scaled] = build_packs(tmp_path, ["im-gateway"], "http://gatewatch.test", time_scale=60)
    check_rules([scaled])
    groups = {g["name"]: g for g in yaml.safe_load(scaled.read_text())["groups"]}
    latency = next(
        r for r in groups["im-gateway"]["rules"] if r.get("alert") == "HighMessageDeliveryLatency"
    )
    assert latency["for"] == "5s"
    assert latency["expr"] == "instance:im_gateway_delivery_latency_seconds:p99_5m > 0.5"
    recording = groups["im-gateway-recording"]
    assert recording["interval"] == "500ms"
    assert "[5s]" in recording["rules"][0]["expr"] and "[5m]" not in recording["rules"][0]["expr"]


def test_an_alert_without_runbook_or_severity_is_refused() -> None:
    pack = RulePack(
        "custom",
        [
            {
                "name": "g",
                "rules": [
                    {"record": "job:up:sum", "expr": "sum(up)"},
                    {
                        "alert": "Bare",
                        "expr": "up == 0",
                        "labels": {"team": "im", "service": "x"},
                        "annotations": {"summary": "s", "description": "d"},
                    },
                ],
            }
        ],
    )
    assert pack_problems(pack) == [
        "custom: alert Bare: missing label 'severity'",
        "custom: alert Bare: missing annotation 'runbook_url'",
    ]
    with pytest.raises(RulePackError, match="unknown rule pack 'nope'"):
        load_pack("nope")


SEED_001 = {  # alert: (expr, for, severity, team), as written in the WebSocket alerting doc
    "NoActiveConnections": ("app_active_connections == 0", "60s", "critical", "websocket"),
    "HighErrorRate": ("rate(app_errors_total[5m]) > 10", "2m", "critical", "websocket"),
    "ServiceDown": ('up{job="websocket-app"} == 0', "30s", "critical", "websocket"),
    "HighMemoryUsage": (
        "(process_resident_memory_bytes / process_virtual_memory_bytes) * 100 > 85",
        "5m",
        "warning",
        "websocket",
    ),
    "SlowShutdownTime": (
        "histogram_quantile(0.95, rate(app_shutdown_duration_seconds_bucket[5m])) > 5",
        "5m",
        "warning",
        "websocket",
    ),
    "LowMessageThroughput": ("rate(app_messages_total[5m]) < 1", "10m", "warning", "websocket"),
    "HighConnectionChurn": (
        "rate(app_connections_opened_total[5m]) > 100",
        "5m",
        "warning",
        "websocket",
    ),
    "DeploymentCompleted": ("changes(app_active_connections[5m]) > 0", None, "info", "websocket"),
    "HighSessionCount": ("app_sessions_tracked > 1000", "5m", "info", "websocket"),
    "HighCPUUsage": (
        '100 - (avg by(instance) (irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 80',
        "5m",
        "warning",
        "infrastructure",
    ),
    "HighDiskUsage": (
        '(node_filesystem_avail_bytes{mountpoint="/"} / '
        'node_filesystem_size_bytes{mountpoint="/"}) * 100 < 10',
        "5m",
        "warning",
        "infrastructure",
    ),
}


SEED_003 = {  # the monitoring guide's list; its ServiceDown is seed 001's
    "CriticalWebSocketErrorRate",
    "CriticalMessageDeliveryFailure",
    "FailedMessageQueueCritical",
    "PersistentHighErrorRate",
    "HighWebSocketErrorRate",
    "HighWebSocketReconnectionRate",
    "WebSocketConnectionTimeoutExceeded",
    "HighMessageDeliveryFailureRate",
    "MessageQueueBacklog",
    "HighMessageSearchLatency",
    "ConversationCreationFailure",
    "IdleConversationsTooHigh",
    "WebSocketHeartbeatFailures",
    "MessageSearchFailures",
}


def test_websocket_pack_is_seed_001_exactly_plus_seed_003() -> None:
    alerts = {rule["alert"]: rule for rule in load_pack("websocket").alerts()}
    assert set(alerts) == set(SEED_001) | SEED_003
    for name, (expr, duration, severity, team) in SEED_001.items():
        rule = alerts[name]
        assert (
            rule["expr"],
            rule.get("for"),
            rule["labels"]["severity"],
            rule["labels"]["team"],
        ) == (expr, duration, severity, team), name


def test_redis_gateway_pack_keeps_seed_002_rules() -> None:
    alerts = {rule["alert"]: rule for rule in load_pack("redis-gateway").alerts()}
    assert set(alerts) == {
        "RedisGatewayHighErrorRate",
        "RedisGatewayHighLatency",
        "RedisConnectionFailure",
        "RedisGatewayDown",
        "RedisGatewayHighMemoryUsage",
        "RedisPoolExhaustion",
        "RedisGatewaySLOBurnRateHigh",
        "RedisInstanceDown",
        "RedisInstanceHighMemoryUsage",
    }
    burn = alerts["RedisGatewaySLOBurnRateHigh"]
    assert "> (14.4 * (1 - 0.999))" in burn["expr"]
    assert (burn["for"], burn["labels"]["slo"], burn["labels"]["severity"]) == (
        "2m",
        "availability",
        "critical",
    )
    assert [
        (a["for"], a["labels"]["severity"])
        for a in (
            alerts["RedisGatewayHighErrorRate"],
            alerts["RedisGatewayHighLatency"],
            alerts["RedisPoolExhaustion"],
            alerts["RedisInstanceHighMemoryUsage"],
        )
    ] == [("2m", "critical"), ("3m", "warning"), ("3m", "warning"), ("5m", "warning")]


def test_kubernetes_manifests_are_generated_and_valid(tmp_path: Path) -> None:
    generated = manifests("http://gatewatch.monitoring.svc:8787", "monitoring")
    committed = HERE.parents[1] / "deploy" / "kubernetes"
    for name, text in generated.items():
        assert (committed / name).read_text() == text, f"regenerate {name}: gatewatch manifests"
    for name, text in generated.items():
        document = yaml.safe_load(text)
        # An object's name is a DNS-1123 subdomain, as the API server requires.
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", document["metadata"]["name"])
        if document["kind"] == "PrometheusRule":
            rules_file = tmp_path / name
            rules_file.write_text(yaml.safe_dump(document["spec"]))
            assert "SUCCESS" in check_rules([rules_file])
        else:
            config = tmp_path / "alertmanager.yml"
            config.write_text(document["stringData"]["alertmanager.yaml"])
            assert "SUCCESS" in run_tool("amtool", "check-config", str(config))
