"""Every dashboard gatewatch ships, in the order Grafana lists them."""

from typing import Any

from gatewatch.config.rules import RulesTuning
from gatewatch.dashboards.gateway import (
    alert_view,
    error_analysis,
    messaging_performance,
    system_overview,
    websocket_health,
)
from gatewatch.dashboards.paging import paging_board
from gatewatch.dashboards.panels import Board
from gatewatch.dashboards.slo import slo_board
from gatewatch.rules.testing import tuned_packs


def all_boards(tuning: RulesTuning = RulesTuning()) -> list[Board]:
    """The dashboards, the alert view's thresholds tuned as the rules are."""
    (gateway_pack,), _ = tuned_packs(["im-gateway"], tuning)
    return [
        system_overview(),
        websocket_health(),
        messaging_performance(),
        error_analysis(),
        alert_view(gateway_pack),
        slo_board(),
        paging_board(),
    ]


def all_dashboards(tuning: RulesTuning = RulesTuning()) -> list[dict[str, Any]]:
    """The dashboards as Grafana stores them."""
    return [board.to_json() for board in all_boards(tuning)]
