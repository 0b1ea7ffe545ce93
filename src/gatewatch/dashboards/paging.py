"""gatewatch's own dashboard: incidents and how fast they are handled, notifications and
their delivery, ingest and the escalation timers."""

from grafana_foundation_sdk.builders import timeseries

from gatewatch.dashboards.panels import Board, Query, Row, graph, quantile, single


def _mean(histogram: str) -> Query:
    return Query(
        f"sum(increase({histogram}_sum[$__range])) / sum(increase({histogram}_count[$__range]))",
        "mean",
        instant=True,
    )


def _by_state(title: str, gauge: str) -> timeseries.Panel:
    """Several replicas report the same store: a state gauge is the store's, not summed."""
    return graph(title, "short", Query(f"max by (status) ({gauge})", "{{status}}"), width=8)


def paging_board() -> Board:
    return Board(
        "gatewatch",
        "gatewatch: incidents and paging",
        "Incidents opened, acknowledged and resolved; time to acknowledge and resolve; every "
        "notification by state; ingest and escalation timing.",
        [
            Row(
                "Incidents",
                [
                    _by_state("Incidents by state", "gatewatch_incidents"),
                    graph(
                        "Incidents opened",
                        "short",
                        Query("sum(increase(gatewatch_incidents_opened_total[1h]))", "last hour"),
                        Query(
                            "sum(increase(gatewatch_incidents_auto_resolved_total[1h]))",
                            "auto-resolved, last hour",
                        ),
                        width=8,
                    ),
                    single(
                        "MTTA",
                        "s",
                        _mean("gatewatch_incident_time_to_acknowledge_seconds"),
                        description="Mean time to acknowledge over the time range shown.",
                        width=4,
                    ),
                    single(
                        "MTTR",
                        "s",
                        _mean("gatewatch_incident_time_to_resolve_seconds"),
                        description="Mean time to resolve over the time range shown.",
                        width=4,
                    ),
                ],
            ),
            Row(
                "Notifications",
                [
                    _by_state("Notifications by state", "gatewatch_notifications"),
                    single(
                        "Dead notifications",
                        "short",
                        Query('max(gatewatch_notifications{status="dead"})', "dead"),
                        description="Gave up after every retry: each needs a person.",
                        width=4,
                        steps=[(None, "green"), (1, "red")],
                    ),
                    graph(
                        "Delivery attempts",
                        "suffix: /s",
                        Query(
                            "sum by (channel, outcome) "
                            "(rate(gatewatch_notification_attempts_total[5m]))",
                            "{{channel}} {{outcome}}",
                        ),
                        width=6,
                    ),
                    graph(
                        "Notification latency",
                        "s",
                        quantile(0.95, "gatewatch_notification_latency_seconds", by="channel"),
                        width=6,
                    ),
                ],
            ),
            Row(
                "Ingest and timers",
                [
                    graph(
                        "Alerts received",
                        "suffix: /s",
                        Query(
                            "sum by (status) (rate(gatewatch_alerts_received_total[5m]))",
                            "{{status}}",
                        ),
                        width=8,
                    ),
                    graph(
                        "Ingest latency",
                        "s",
                        quantile(0.99, "gatewatch_ingest_duration_seconds"),
                        width=8,
                    ),
                    graph(
                        "Escalation step lateness",
                        "s",
                        quantile(0.99, "gatewatch_timer_lateness_seconds"),
                        width=8,
                    ),
                ],
            ),
        ],
        tags=["incidents"],
    )
