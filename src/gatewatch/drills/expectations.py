"""The steps that wait for a hop (Prometheus, Alertmanager, gatewatch, the stand-ins, the
gateway), each with the deadline it derives from the stack; and which class runs which step."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from gatewatch.drills.actions import AcknowledgeInSlack, Clear, Inject
from gatewatch.drills.context import (
    Action,
    DrillContext,
    Expectation,
    StepMissed,
    arrivals,
    wall_time,
)
from gatewatch.drills.scenario import (
    AlertState,
    DirectPageExpectation,
    IncidentExpectation,
    NotificationExpectation,
    PageExpectation,
    Scenario,
    SteadyExpectation,
    Step,
)

TRIGGER_EVENTS = {"trigger", "post", "mail"}  # as the stand-ins label a first message


@dataclass(frozen=True)
class AlertInPrometheus(Expectation):
    wanted: AlertState
    after_pending: bool  # the step before saw it pending, so the range window is behind us

    def describe(self, scenario: Scenario) -> str:
        return f"Prometheus: {scenario.alert} {self.wanted}"

    def allowed(self, context: DrillContext) -> float:
        alert = context.timings.alert(context.scenario.alert, context.scenario.alert_labels)
        scrape = context.timings.scrape
        if self.wanted == "pending":
            allowed = alert.window + 2 * scrape + alert.evaluation
        elif self.wanted == "firing":
            allowed = alert.hold + 2 * alert.evaluation
            if not self.after_pending:
                allowed += alert.window + 2 * scrape
        else:
            allowed = alert.window + 2 * scrape + 2 * alert.evaluation
        return allowed

    async def check(self, context: DrillContext) -> tuple[bool, str]:
        alerts = await context.probe.prometheus_alerts(context.alert_labels)
        states = sorted({alert["state"] for alert in alerts}) or ["inactive"]
        if alerts:
            context.state.labels = alerts[0]["labels"]
            if self.wanted == "pending":
                context.state.seen_at = min(wall_time(alert["activeAt"]) for alert in alerts)
        if self.wanted == "inactive":
            return states == ["inactive"], f"Prometheus: {', '.join(states)}"
        if self.wanted == "pending" and "firing" in states:
            return True, "Prometheus: firing (pending was shorter than a poll)"
        return self.wanted in states, f"Prometheus: {', '.join(states)}"


class AlertInAlertmanager(Expectation):
    def describe(self, scenario: Scenario) -> str:
        return f"Alertmanager: {scenario.alert} active"

    def allowed(self, context: DrillContext) -> float:
        alert = context.timings.alert(context.scenario.alert, context.scenario.alert_labels)
        return 2 * alert.evaluation

    async def check(self, context: DrillContext) -> tuple[bool, str]:
        receivers = await context.probe.alertmanager_receivers(context.alert_labels)
        return bool(receivers), f"Alertmanager: receivers {', '.join(receivers) or 'none'}"


@dataclass(frozen=True)
class IncidentStep(Expectation):
    expected: IncidentExpectation

    def describe(self, scenario: Scenario) -> str:
        extra = ", ".join(x for x in (self.expected.severity, self.expected.policy) if x)
        return f"gatewatch: incident {self.expected.status}" + (f" ({extra})" if extra else "")

    def allowed(self, context: DrillContext) -> float:
        timings, state = context.timings, context.state
        alert = timings.alert(context.scenario.alert, context.scenario.alert_labels)
        route = timings.route(state.labels or {"alertname": context.scenario.alert})
        if self.expected.status == "resolved":
            allowed = route.group_interval + 2 * alert.evaluation + timings.poll
        elif self.expected.status == "triggered":
            allowed = route.group_wait + timings.poll
        else:
            allowed = timings.poll
        return allowed


class IncidentOpened(IncidentStep):
    async def check(self, context: DrillContext) -> tuple[bool, str]:
        state, probe = context.state, context.probe
        incident = await probe.open_incident(context.alert_labels, state.started)
        if incident is None:
            return False, "no incident yet"
        severity, policy = self.expected.severity, self.expected.policy
        found = f"incident #{incident['id']} {incident['severity']}, policy {incident['policy']}"
        if (severity and incident["severity"] != severity) or (
            policy and incident["policy"] != policy
        ):
            raise StepMissed(f"{found}; expected {severity or '*'}, policy {policy or '*'}")
        state.incident, state.policy = incident["id"], incident["policy"]
        state.seen_at = wall_time(incident["triggered_at"])
        state.incident_at = time.monotonic()
        state.on_call = {
            entry["schedule"]: [p["id"] for p in entry["on_call"]]
            for entry in await probe.gatewatch("/oncall")
        }
        return True, found


class IncidentInStatus(IncidentStep):
    async def check(self, context: DrillContext) -> tuple[bool, str]:
        state, status = context.state, self.expected.status
        if state.incident is None:
            raise StepMissed("no incident to look at: expect_incident (triggered) comes first")
        incident = await context.probe.gatewatch(f"/incidents/{state.incident}")
        stamp = incident.get(f"{status}_at")
        if incident["status"] == status and stamp:
            state.seen_at = wall_time(stamp)
        return incident["status"] == status, f"incident #{state.incident} {incident['status']}"


@dataclass(frozen=True)
class Paged(Expectation):
    page: PageExpectation

    def describe(self, scenario: Scenario) -> str:
        return f"page: {self.page.person} on {', '.join(self.page.channels)}"

    def allowed(self, context: DrillContext) -> float:
        """The policy step's delay, then delivery."""
        state, timings = context.state, context.timings
        return timings.page_after(state.policy, self.page.person, state.on_call) + timings.poll

    def counted_from(self, context: DrillContext) -> float:
        return context.state.incident_at

    async def check(self, context: DrillContext) -> tuple[bool, str]:
        state, person = context.state, self.page.person
        who = context.config.person(person)
        if who is None:
            raise StepMissed(f"no person {person!r} in the stack's config")

        def to_them(item: dict[str, Any]) -> bool:
            channel = item["channel"]
            return (
                (channel == "slack" and who.slack_user_id in item["to"])
                or (channel == "email" and who.email in item["to"])
                or (channel == "pagerduty" and item["event"] == "trigger")
            )

        label = f"{person} reached on"
        return await arrivals(context, state.incident, self.page.channels, to_them, label)


@dataclass(frozen=True)
class Notified(Expectation):
    note: NotificationExpectation

    def describe(self, scenario: Scenario) -> str:
        return f"notify: {self.note.event} on {', '.join(self.note.channels)}"

    def allowed(self, context: DrillContext) -> float:
        return context.timings.poll

    async def check(self, context: DrillContext) -> tuple[bool, str]:
        event = self.note.event
        events = TRIGGER_EVENTS if event == "trigger" else {event}
        return await arrivals(
            context,
            context.state.incident,
            self.note.channels,
            lambda item: item["event"] in events,
            f"{event} on",
        )


@dataclass(frozen=True)
class DirectPage(Expectation):
    page: DirectPageExpectation

    def describe(self, scenario: Scenario) -> str:
        return f"fallback: {scenario.alert} on {', '.join(self.page.channels)}, not via gatewatch"

    def allowed(self, context: DrillContext) -> float:
        route = context.timings.route({"alertname": context.scenario.alert})
        return route.group_wait + context.timings.poll

    async def check(self, context: DrillContext) -> tuple[bool, str]:
        alert = context.scenario.alert
        return await arrivals(
            context,
            None,  # not through gatewatch: no incident of its own
            self.page.channels,
            lambda item: alert in item["summary"] and item["event"] in TRIGGER_EVENTS,
            f"{alert} reached directly on",
        )


@dataclass(frozen=True)
class GatewayShows(Expectation):
    expected: dict[str, str]

    def describe(self, scenario: Scenario) -> str:
        return "gateway: " + ", ".join(f"{k}={v}" for k, v in self.expected.items())

    def allowed(self, context: DrillContext) -> float:
        return context.timings.poll

    async def check(self, context: DrillContext) -> tuple[bool, str]:
        stats = await context.probe.gateway_stats()
        seen = {key: str(stats.get(key)) for key in self.expected}
        return seen == self.expected, "gateway: " + ", ".join(f"{k}={v}" for k, v in seen.items())


@dataclass(frozen=True)
class GatewaySteady(Expectation):
    steady: SteadyExpectation

    def describe(self, scenario: Scenario) -> str:
        hold = self.steady.hold.total_seconds()
        return f"gateway: {self.steady.stat} stays put for {hold:g}s"

    def allowed(self, context: DrillContext) -> float:
        return 2 * self.steady.hold.total_seconds()

    async def check(self, context: DrillContext) -> tuple[bool, str]:
        stat, hold = self.steady.stat, self.steady.hold.total_seconds()
        before = (await context.probe.gateway_stats()).get(stat)
        await asyncio.sleep(hold)
        after = (await context.probe.gateway_stats()).get(stat)
        return before == after, f"gateway {stat}: {before} → {after} over {hold:g}s"


def step_kind(scenario: Scenario, index: int) -> Action | Expectation:
    """The class that runs the scenario's step `index` (a step has exactly one kind)."""
    step: Step = scenario.steps[index]
    if step.inject is not None:
        return Inject(step.inject)
    if step.clear is not None:
        return Clear()
    if step.acknowledge is not None:
        return AcknowledgeInSlack(step.acknowledge)
    if step.expect_alert is not None:
        after_pending = index > 0 and scenario.steps[index - 1].expect_alert == "pending"
        return AlertInPrometheus(step.expect_alert, after_pending)
    if step.expect_alertmanager is not None:
        return AlertInAlertmanager()
    if step.expect_incident is not None:
        if step.expect_incident.status == "triggered":
            return IncidentOpened(step.expect_incident)
        return IncidentInStatus(step.expect_incident)
    if step.expect_page is not None:
        return Paged(step.expect_page)
    if step.expect_notification is not None:
        return Notified(step.expect_notification)
    if step.expect_direct_page is not None:
        return DirectPage(step.expect_direct_page)
    if step.expect_gateway is not None:
        return GatewayShows(step.expect_gateway)
    assert step.expect_steady is not None
    return GatewaySteady(step.expect_steady)
