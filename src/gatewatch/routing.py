"""Which route an alert takes (Alertmanager semantics) and the key that groups it."""

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from gatewatch.config.schema import RouteConfig
from gatewatch.matchers import Matcher, match_all
from gatewatch.model import Alert, AlertBatch

DEFAULT_ROUTE = "default"
_DEFAULT_GROUP_BY = ("alertname",)
_ALL_LABELS = "..."


@dataclass(frozen=True)
class Route:
    name: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...] | None
    continue_matching: bool
    policy: str | None


@dataclass(frozen=True)
class Grouping:
    """An alert's place: the route it took and the incident group it belongs to there."""

    route: Route
    key: str
    labels: dict[str, str]


class Router:
    """Routes are tried in order; the first match wins unless it says `continue`."""

    def __init__(self, routes: list[RouteConfig], default_policy: str | None) -> None:
        self.routes = [
            Route(
                name=route.name,
                matchers=tuple(route.parsed_matchers),
                group_by=tuple(route.group_by) if route.group_by is not None else None,
                continue_matching=route.continue_,
                policy=route.policy,
            )
            for route in routes
        ]
        self.default = Route(DEFAULT_ROUTE, (), None, False, default_policy)

    def match(self, labels: dict[str, str]) -> list[Route]:
        matched: list[Route] = []
        for route in self.routes:
            if match_all(list(route.matchers), labels):
                matched.append(route)
                if not route.continue_matching:
                    break
        return matched or [self.default]

    def groupings(self, alert: Alert, batch: AlertBatch) -> list[Grouping]:
        """One grouping per matched route.

        Without an explicit `group_by`, an Alertmanager webhook keeps Alertmanager's own
        grouping (its groupKey), so one notification group becomes one incident.
        """
        result = []
        for route in self.match(alert.labels):
            labels: dict[str, str]
            if route.group_by is None and batch.group_key is not None:
                labels = dict(batch.group_labels)
                identity = ["groupKey", batch.group_key]
            else:
                names = route.group_by or _DEFAULT_GROUP_BY
                if _ALL_LABELS in names:
                    labels = dict(alert.labels)
                else:
                    labels = {name: alert.labels[name] for name in names if name in alert.labels}
                identity = ["labels", json.dumps(labels, sort_keys=True)]
            result.append(
                Grouping(route=route, key=_group_key(route.name, *identity), labels=labels)
            )
        return result


@lru_cache(maxsize=65536)
def _group_key(route: str, kind: str, identity: str) -> str:
    """A fixed-length key for the database's unique index; cached as groups repeat."""
    return hashlib.sha256(json.dumps([route, kind, identity]).encode()).hexdigest()
