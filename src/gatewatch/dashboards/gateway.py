"""The IM gateway's dashboards: the four of the monitoring guide (seed 003) over the metrics
the reference gateway exports (im_gateway_*), and the alert view the runbooks open."""

from gatewatch.dashboards.panels import (
    UP_DOWN,
    Board,
    Query,
    Row,
    graph,
    history,
    listing,
    pie,
    quantile,
    single,
    variable,
)
from gatewatch.model import RulePack
from gatewatch.rules.tuning import tunable

JOB = 'job="im-gateway"'
ON = f'{JOB}, instance=~"$instance"'
INSTANCES = variable("instance", "Gateway instance", f"label_values(up{{{JOB}}}, instance)")
# Counts over the time range the dashboard shows.
RANGE = "$__range"
PER_SECOND = "suffix: /s"
PER_MINUTE = "suffix: /min"
MESSAGES_PER_SECOND = "suffix: msg/s"
# A tuning unit of the rule packs, as Grafana names it.
GRAFANA_UNITS = {
    "seconds": "s",
    "ratio": "percentunit",
    "percent": "percent",
    "count": "short",
    "per_second": PER_SECOND,
}


def _sum(metric: str, selector: str = ON, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{{{selector}}}[5m]))"


def _in_range(metric: str, selector: str = ON, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (increase({metric}{{{selector}}}[{RANGE}]))"


FAILED = f'{ON}, status="failed"'
SUCCESS = f'{ON}, status="success"'
# Every kind of failure the gateway counts: (counter, selector, grouping, legend).
ERROR_KINDS = (
    ("im_gateway_connection_errors_total", ON, "reason", "connection: {{reason}}"),
    ("im_gateway_ack_timeouts_total", ON, "", "ACK time-out"),
    ("im_gateway_messages_delivered_total", FAILED, "", "delivery failed"),
    ("im_gateway_messages_lost_total", ON, "", "message lost"),
    ("im_gateway_searches_total", FAILED, "", "search failed"),
    ("im_gateway_conversations_created_total", FAILED, "", "conversation failed"),
)
ERRORS_BY_TYPE = tuple(Query(_in_range(m, s, by), legend) for m, s, by, legend in ERROR_KINDS)
ERRORS_PER_MINUTE = tuple(
    Query("60 * " + _sum(m, s, by), legend) for m, s, by, legend in ERROR_KINDS
)
DELIVERIES = Query(_sum("im_gateway_messages_delivered_total", by="status"), "{{status}}")
OFFLINE_QUEUE = Query("sum(im_gateway_offline_queue_size{" + ON + "})", "pending (offline store)")
LATENCY = [
    quantile(q, "im_gateway_message_delivery_latency_seconds", ON) for q in (0.5, 0.95, 0.99)
]


def system_overview() -> Board:
    return Board(
        "im-gateway-health",
        "IM Gateway: System Overview",
        "Is the gateway up, how busy is it and is it failing? Seed 003's first dashboard.",
        [
            Row(
                "Service health",
                [
                    single(
                        "Services up",
                        "short",
                        Query(
                            'up{job=~"im-gateway|gatewatch|alertmanager|prometheus"}',
                            "{{job}} {{instance}}",
                        ),
                        description="Each scraped component of the chain: UP or DOWN.",
                        width=24,
                        steps=[(None, "red"), (1, "green")],
                        texts=UP_DOWN,
                    )
                ],
            ),
            Row(
                "Load",
                [
                    graph(
                        "WebSocket connections: current and 24 h peak",
                        "short",
                        Query("sum(im_gateway_active_connections{" + ON + "})", "current"),
                        Query(
                            "max_over_time(sum(im_gateway_active_connections{" + ON + "})[24h:1m])",
                            "peak (24 h)",
                        ),
                    ),
                    graph(
                        "Message throughput",
                        MESSAGES_PER_SECOND,
                        Query(_sum("im_gateway_messages_received_total"), "received"),
                        DELIVERIES,
                    ),
                ],
            ),
            Row(
                "Errors and queues",
                [
                    graph(
                        "Error rate",
                        "percentunit",
                        Query(
                            f"{_sum('im_gateway_messages_delivered_total', FAILED)}"
                            f" / {_sum('im_gateway_messages_delivered_total')}",
                            "deliveries failed",
                        ),
                        Query(
                            f"{_sum('im_gateway_connection_errors_total')}"
                            f" / ({_sum('im_gateway_connection_errors_total')}"
                            f" + {_sum('im_gateway_connections_opened_total')})",
                            "connection attempts failed",
                        ),
                    ),
                    graph("Queue depth", "short", OFFLINE_QUEUE),
                ],
            ),
        ],
        [INSTANCES],
        ["im-gateway"],
    )


def websocket_health() -> Board:
    return Board(
        "im-gateway-connections",
        "IM Gateway: WebSocket Health",
        "Connections, their latency, churn and failures. Seed 003's second dashboard; the "
        "runbooks' 'IM Gateway Connections' dashboard (seed 004).",
        [
            Row(
                "Connections",
                [
                    pie(
                        "Connection states",
                        "short",
                        Query("sum(im_gateway_active_connections{" + ON + "})", "open now"),
                        Query(_in_range("im_gateway_connections_closed_total"), "closed"),
                        Query(_in_range("im_gateway_connection_errors_total"), "refused or failed"),
                        description="Open now; closed and refused over the time range shown.",
                    ),
                    graph(
                        "Reconnection frequency",
                        PER_MINUTE,
                        Query("60 * " + _sum("im_gateway_connections_opened_total"), "opened"),
                        Query("60 * " + _sum("im_gateway_connections_closed_total"), "closed"),
                        description="Connections opened and closed per minute: clients "
                        "reconnecting show as both rising together.",
                        width=16,
                    ),
                ],
            ),
            Row(
                "Latency and failures",
                [
                    graph(
                        "Message latency: p50, p95, p99",
                        "s",
                        *LATENCY,
                        description="From a send being accepted to the recipient's ACK.",
                        threshold=0.5,
                    ),
                    pie(
                        "Error breakdown",
                        "short",
                        *ERRORS_BY_TYPE,
                        description="Failures over the time range shown, by kind.",
                        width=6,
                    ),
                    graph(
                        "Heartbeat failures",
                        PER_MINUTE,
                        Query("60 * " + _sum("im_gateway_ack_timeouts_total"), "ACK time-outs"),
                        description="Recipients that stopped answering: every delivery "
                        "expects an ACK, and a dead client's connection fails it first.",
                        width=6,
                    ),
                ],
            ),
        ],
        [INSTANCES],
        ["im-gateway"],
    )


def messaging_performance() -> Board:
    return Board(
        "im-gateway-messaging",
        "IM Gateway: Messaging Performance",
        "Delivery, search, conversation creation, queues, the routing cache and the "
        "gateway's HTTP API. Seed 003's third dashboard.",
        [
            Row(
                "Delivery",
                [
                    graph("Message delivery rate", MESSAGES_PER_SECOND, DELIVERIES),
                    graph(
                        "Queue backlog: pending, failed, retried",
                        "short",
                        OFFLINE_QUEUE,
                        Query(
                            "60 * " + _sum("im_gateway_messages_lost_total"), "failed (lost) /min"
                        ),
                        Query(
                            "60 * " + _sum("im_gateway_duplicate_messages_total"),
                            "retried (duplicates caught) /min",
                        ),
                    ),
                ],
            ),
            Row(
                "Search and conversations",
                [
                    graph(
                        "Search latency by index type",
                        "s",
                        *(
                            quantile(q, "im_gateway_search_latency_seconds", ON, "index_type")
                            for q in (0.5, 0.95)
                        ),
                    ),
                    graph(
                        "Conversation creation success rate",
                        "percentunit",
                        Query(
                            f"{_sum('im_gateway_conversations_created_total', SUCCESS)}"
                            f" / {_sum('im_gateway_conversations_created_total')}",
                            "created",
                        ),
                        description="Rejected requests (bad members) and failures both count "
                        "against it.",
                    ),
                ],
            ),
            Row(
                "Lookups and API",
                [
                    graph(
                        "Routing cache hit ratio",
                        "percentunit",
                        Query(
                            f"{_sum('im_gateway_registry_cache_hits_total')} / "
                            f"({_sum('im_gateway_registry_cache_hits_total')} + "
                            f"{_sum('im_gateway_registry_cache_misses_total')})",
                            "hit ratio",
                        ),
                        threshold=0.7,
                        below=True,
                    ),
                    graph(
                        "API endpoint latencies (p95)",
                        "s",
                        quantile(0.95, "im_gateway_http_request_duration_seconds", ON, "route"),
                        description="The gateway's HTTP endpoints, by route.",
                    ),
                ],
            ),
        ],
        [INSTANCES],
        ["im-gateway"],
    )


def error_analysis() -> Board:
    return Board(
        "im-gateway-errors",
        "IM Gateway: Error Analysis",
        "Where failures come from and whether they are growing. Seed 003's fourth dashboard.",
        [
            Row(
                "Trend",
                [
                    graph(
                        "Error-rate trend across services",
                        PER_SECOND,
                        Query(
                            _sum("im_gateway_messages_delivered_total", FAILED),
                            "im-gateway: deliveries failed",
                        ),
                        Query(
                            _sum("im_gateway_connection_errors_total"),
                            "im-gateway: connections refused",
                        ),
                        Query(
                            "sum(rate(alertmanager_notifications_failed_total[5m]))",
                            "Alertmanager: notifications failed",
                        ),
                        Query(
                            "sum(rate(prometheus_rule_evaluation_failures_total[5m]))",
                            "Prometheus: rule evaluations failed",
                        ),
                        width=24,
                    )
                ],
            ),
            Row(
                "Breakdown",
                [
                    pie("Error types", "short", *ERRORS_BY_TYPE, width=8),
                    graph(
                        "Failed message queue depth",
                        "short",
                        Query(
                            "sum(increase(im_gateway_messages_lost_total{" + ON + "}[1h]))",
                            "lost in the last hour",
                        ),
                        description="Accepted messages neither delivered nor stored.",
                        width=8,
                    ),
                    history(
                        "Error correlation",
                        PER_MINUTE,
                        *ERRORS_PER_MINUTE,
                        description="One row per kind of error, coloured by its rate: kinds "
                        "that light up together share a cause.",
                        width=24,
                    ),
                    listing(
                        "Top error sources",
                        "short",
                        Query(
                            "topk(10, "
                            + _in_range("im_gateway_connection_errors_total", by="instance, reason")
                            + ")",
                            instant=True,
                        ),
                        description="Instances and reasons with the most refused connections "
                        "over the time range shown.",
                        width=8,
                    ),
                ],
            ),
        ],
        [INSTANCES],
        ["im-gateway"],
    )


def _reads_the_gateway(rule: dict[str, object]) -> bool:
    return "im_gateway_" in str(rule["expr"]) and "tuning" in rule


def alert_view(pack: RulePack) -> Board:
    """A panel per gateway alert: what it measures against its threshold as built (so tuned
    thresholds show as tuned). Seed 000's runbooks open it by its uid."""
    panels = []
    for rule in pack.alerts():
        if not _reads_the_gateway(rule):
            continue
        alert = tunable(pack, rule)
        assert alert.compared is not None and alert.unit is not None, "declared by the pack"
        severity = dict(rule.get("labels") or {}).get("severity", "")
        panels.append(
            graph(
                str(rule["alert"]),
                GRAFANA_UNITS[alert.unit],
                Query(alert.compared.lhs.prettify(), "{{instance}}"),
                description=f"{severity} alert when {alert.compared.op} "
                f"{alert.compared.threshold:g}" + (f" for {rule['for']}" if "for" in rule else ""),
                width=8,
                threshold=alert.compared.threshold,
                below=alert.compared.op.startswith("<"),
            )
        )
    return Board(
        "im-gateway-messages",
        "IM Gateway: Messages and Alerts",
        "Each of the gateway's alerts: the series it watches and the line it fires at. The "
        "alerting guide's runbooks open this dashboard.",
        [Row("Alerts on the gateway's metrics", panels)],
        tags=["im-gateway"],
    )
