"""The SLO dashboard (seed 002's monitoring dashboard): per SLO its SLI against the objective,
the budget left in the period, burn rates per window and the alerts firing. It reads the
Sloth-named series gatewatch's SLO rules record, so Sloth's own dashboards work too."""

from gatewatch.dashboards.panels import Board, Query, Row, graph, single, variable
from gatewatch.slo.generate import DASHBOARD_UID

ON = 'sloth_service=~"$service", sloth_slo=~"$slo"'
SLO = "{{sloth_service}} {{sloth_slo}}"
TIMES = "suffix: x"
SERVICES = variable("service", "Service", "label_values(sloth_slo_info, sloth_service)")
SLOS = variable("slo", "SLO", 'label_values(sloth_slo_info{sloth_service=~"$service"}, sloth_slo)')
WINDOWS = "5m|30m|1h|2h|6h|1d|3d"
BUDGET_LEFT = Query(f"slo:period_error_budget_remaining:ratio{{{ON}}}", SLO)


def slo_board() -> Board:
    return Board(
        DASHBOARD_UID,
        "SLOs and error budgets",
        "Every SLO gatewatch generates rules for: SLI against the objective, the error budget "
        "left in the period, burn rates per alert window and the SLO alerts firing.",
        [
            Row(
                "Status",
                [
                    single(
                        "Error budget remaining",
                        "percentunit",
                        BUDGET_LEFT,
                        description="Healthy above 50 %, warning above 25 %, critical above 0, "
                        "exhausted below.",
                        width=16,
                        steps=[(None, "dark-red"), (0, "red"), (0.25, "orange"), (0.5, "green")],
                    ),
                    single(
                        "SLO alerts firing",
                        "short",
                        Query(f'count(ALERTS{{alertstate="firing", {ON}}}) or vector(0)', "firing"),
                        width=8,
                        steps=[(None, "green"), (1, "red")],
                    ),
                ],
            ),
            Row(
                "SLI and budget",
                [
                    graph(
                        "SLI against the objective",
                        "percentunit",
                        Query(f"1 - slo:sli_error:ratio_rate5m{{{ON}}}", SLO + " SLI (5m)"),
                        Query(f"slo:objective:ratio{{{ON}}}", SLO + " objective"),
                    ),
                    graph("Error budget remaining over the period", "percentunit", BUDGET_LEFT),
                ],
            ),
            Row(
                "Burn rates",
                [
                    graph(
                        "Burn rate per window",
                        TIMES,
                        Query(
                            f'{{__name__=~"slo:sli_error:ratio_rate({WINDOWS})", {ON}}}'
                            f" / ignoring (sloth_window) group_left slo:error_budget:ratio{{{ON}}}",
                            SLO + " {{sloth_window}}",
                        ),
                        description="How many times faster than the period allows each "
                        "window spends the budget; the alerts compare pairs of these.",
                        threshold=1,
                    ),
                    graph(
                        "Budget spent in the period",
                        TIMES,
                        Query(f"slo:period_burn_rate:ratio{{{ON}}}", SLO),
                        description="1 spends the whole budget by the period's end.",
                        threshold=1,
                    ),
                ],
            ),
        ],
        [SERVICES, SLOS],
        ["slo"],
    )
