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
# Alerts whose routes are kept; past it the cache starts over.
CACHED_GROUPINGS = 65536


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
        self._cached: dict[tuple[object, ...], tuple[Grouping, ...]] = {}

    def match(self, labels: dict[str, str]) -> list[Route]:
        matched: list[Route] = []
        for route in self.routes:
            if match_all(list(route.matchers), labels):
                matched.append(route)
                if not route.continue_matching:
                    break
        return matched or [self.default]

    def groupings(self, alert: Alert, batch: AlertBatch) -> tuple[Grouping, ...]:
        """One grouping per matched route.

        Without an explicit `group_by`, an Alertmanager webhook keeps Alertmanager's own
        grouping (its groupKey), so one notification group becomes one incident. Cached:
        senders repeat the same alerts every group interval, and the answer depends only on
        the labels (which the fingerprint stands for) and the sender's group.
        """
        sender_group = (batch.group_key, *batch.group_labels.items()) if batch.group_key else ()
        key = (alert.fingerprint, *sender_group)
        found = self._cached.get(key)
        if found is None:
            if len(self._cached) >= CACHED_GROUPINGS:
                self._cached.clear()
            found = self._cached[key] = self._groupings(alert, batch)
        return found

    def _groupings(self, alert: Alert, batch: AlertBatch) -> tuple[Grouping, ...]:
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
        return tuple(result)


@lru_cache(maxsize=65536)
def _group_key(route: str, kind: str, identity: str) -> str:
    """A fixed-length key for the database's unique index; cached as groups repeat."""
    return hashlib.sha256(json.dumps([route, kind, identity]).encode()).hexdigest()
