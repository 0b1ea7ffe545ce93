"""Builds every domain service from its own config section, around one database and clock."""

from sqlalchemy import Engine

from gatewatch.actions.service import AutomatedActions
from gatewatch.clock import Clock
from gatewatch.config import GatewatchConfig
from gatewatch.escalation.service import Escalation
from gatewatch.handoffs.service import HandoffAnnouncer
from gatewatch.heartbeats.service import Heartbeats
from gatewatch.incidents.service import Incidents, count_incidents
from gatewatch.incidents.severity import SeverityScale
from gatewatch.metrics import Metrics
from gatewatch.notify.compose import NotificationComposer
from gatewatch.notify.notifications import Notifications, count_notifications
from gatewatch.oncall.service import OnCall
from gatewatch.postmortem.service import Reviews
from gatewatch.routing import Router
from gatewatch.runtime import Runtime
from gatewatch.signin.service import SignIn
from gatewatch.slo.shipped import watched_specs
from gatewatch.web.deps import Services


def build_services(config: GatewatchConfig, database: Engine, clock: Clock) -> Services:
    metrics = Metrics(lambda: count_incidents(database), lambda: count_notifications(database))
    runtime = Runtime(database, clock, metrics)
    composer = NotificationComposer(
        config.channels, config.people, config.external_url, metrics.template_errors_for
    )
    escalation = Escalation(
        runtime,
        config.policies,
        config.severities,
        config.schedules,
        composer,
        config.scheduler,
    )
    heartbeats = Heartbeats(runtime, config.heartbeats, config.external_url)
    incidents = Incidents(
        runtime,
        Router(config.routes, config.default_policy),
        SeverityScale(config.severities, config.default_severity),
        # Actions first: the timeline shows the action requested before the first page.
        followers=[AutomatedActions(composer), escalation],
        intakes=[heartbeats],
    )
    return Services(
        config=config,
        runtime=runtime,
        incidents=incidents,
        escalation=escalation,
        heartbeats=heartbeats,
        oncall=OnCall(runtime, config.people, config.schedules),
        notifications=Notifications(runtime),
        reviews=Reviews(runtime),
        signin=SignIn(runtime, config.auth),
        handoffs=HandoffAnnouncer(runtime, config.schedules, config.people, config.external_url),
        slo_specs=watched_specs(config.slo),
    )
