from datetime import UTC, datetime
from typing import Any

from gatewatch.config import GatewatchConfig
from gatewatch.model import Alert, AlertBatch, AlertStatus, fingerprint
from gatewatch.routing import DEFAULT_ROUTE, Router


def _alert(**labels: str) -> Alert:
    return Alert(
        labels,
        {},
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        "",
        AlertStatus.FIRING,
        fingerprint(labels),
    )


def _router(routes: list[dict[str, Any]]) -> Router:
    policies = {route["policy"]: {} for route in routes if "policy" in route}
    config = GatewatchConfig.model_validate({"routes": routes, "policies": policies})
    return Router(config.routes, config.default_policy)


ROUTES = [
    {"name": "critical", "matchers": ['severity="critical"'], "policy": "page", "continue": True},
    {"name": "gateway", "matchers": ['service=~"im-.*"'], "group_by": ["alertname", "cluster"]},
    {"name": "never", "matchers": ['service=~"im-.*"']},
]


def test_first_match_wins_unless_continue() -> None:
    router = _router(ROUTES)
    assert [r.name for r in router.match({"severity": "critical", "service": "im-gw"})] == [
        "critical",
        "gateway",
    ]
    assert [r.name for r in router.match({"severity": "P1", "service": "im-gw"})] == ["gateway"]


def test_unmatched_alerts_take_the_default_route() -> None:
    assert [r.name for r in _router(ROUTES).match({"service": "billing"})] == [DEFAULT_ROUTE]


def test_group_by_labels_decide_the_group() -> None:
    router = _router(ROUTES)
    batch = AlertBatch("prometheus", [])
    a = router.groupings(_alert(alertname="Lag", service="im-gw", cluster="eu", pod="1"), batch)
    b = router.groupings(_alert(alertname="Lag", service="im-gw", cluster="eu", pod="2"), batch)
    c = router.groupings(_alert(alertname="Lag", service="im-gw", cluster="us", pod="1"), batch)
    assert a[0].key == b[0].key != c[0].key
    assert a[0].labels == {"alertname": "Lag", "cluster": "eu"}


def test_webhook_group_key_groups_when_route_sets_no_group_by() -> None:
    router = _router([])
    one = AlertBatch("alertmanager", [], group_key='{}:{alertname="A"}', group_labels={"x": "1"})
    other = AlertBatch("alertmanager", [], group_key='{}:{alertname="B"}')
    first = router.groupings(_alert(alertname="A", pod="1"), one)[0]
    second = router.groupings(_alert(alertname="A", pod="2"), one)[0]
    third = router.groupings(_alert(alertname="A", pod="1"), other)[0]
    assert first.key == second.key != third.key
    assert first.labels == {"x": "1"}


def test_same_labels_on_two_routes_make_two_groups() -> None:
    router = _router(ROUTES)
    groupings = router.groupings(
        _alert(alertname="Down", severity="critical", service="im-gw"), AlertBatch("x", [])
    )
    assert len({g.key for g in groupings}) == 2
