"""Runs a drill against a live stack: injects its faults, then waits for each expected hop
(Prometheus, Alertmanager, gatewatch, the stand-ins, the gateway) within its deadline and
records when it happened."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx

from gatewatch.config import GatewatchConfig
from gatewatch.drills.faults import GatewayAccess, Undo, inject
from gatewatch.drills.scenario import Scenario, Step
from gatewatch.drills.timing import StackTimings
from gatewatch.errors import GatewatchError
from gatewatch.notify.slack import ACK_ACTION
from gatewatch.notify.slack_signature import signed_button_press
from gatewatch.timestamps import parse_rfc3339

POLL = 0.2
TRIGGER_EVENTS = {"trigger", "post", "mail"}  # as the stand-ins label a first message
QUIET_WITHIN = 180.0  # the previous drill's alert must have cleared by then


@dataclass(frozen=True)
class StackEndpoints:
    prometheus: str
    alertmanager: str
    gatewatch: str
    standins: str
    gateway: GatewayAccess
    admin_token: str


@dataclass
class Hop:
    step: str
    deadline: float | None = None
    took: float | None = None  # since the previous hop
    at: float | None = None  # since the first fault
    ok: bool = False
    detail: str = ""


@dataclass
class DrillResult:
    name: str
    summary: str
    hops: list[Hop] = field(default_factory=list)
    passed: bool = False
    error: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class StepMissed(Exception):
    """A hop did not happen within its deadline (or went wrong)."""


@dataclass
class _State:
    started: float
    fault_at: float | None = None  # wall clock, to compare with the components' timestamps
    previous_at: float = 0.0
    seen_at: float | None = None  # when the component says the hop happened
    last: float = 0.0
    standins_seq: int = 0
    incident: int | None = None
    incident_at: float = 0.0
    policy: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    undo: list[Undo] = field(default_factory=list)


class DrillRunner:
    client: httpx.AsyncClient

    def __init__(
        self,
        endpoints: StackEndpoints,
        timings: StackTimings,
        config: GatewatchConfig,
        stop: Callable[[str], Awaitable[None]],
        start: Callable[[str], Awaitable[None]],
        margin: float = 10.0,
        on_hop: Callable[[str, Hop], None] = lambda drill, hop: None,
    ) -> None:
        self.endpoints = endpoints
        self.timings = timings
        self.config = config
        self.margin = margin
        self.on_hop = on_hop
        self._stop, self._start = stop, start
        self._on_call: dict[str, list[str]] = {}

    async def run(self, scenario: Scenario) -> DrillResult:
        result = DrillResult(scenario.name, scenario.summary)
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as client:
            self.client = client
            state = _State(started=time.time())
            try:
                await self._wait_quiet(scenario)
                state.standins_seq = await self._standins_seq()
                state.last = time.monotonic()
                for step in scenario.steps:
                    hop = Hop(_describe(step, scenario))
                    result.hops.append(hop)
                    state.seen_at = None
                    await self._run_step(scenario, step, state, hop)
                    state.last = time.monotonic()
                    at = (state.seen_at or time.time()) - (state.fault_at or time.time())
                    hop.at = round(max(at, 0.0), 2)
                    hop.took = round(max(hop.at - state.previous_at, 0.0), 2)
                    state.previous_at = hop.at
                    hop.ok = True
                    self.on_hop(scenario.name, hop)
                result.passed = True
            except (StepMissed, GatewatchError, httpx.HTTPError) as exc:
                result.error = str(exc)
                if result.hops and not result.hops[-1].ok:
                    result.hops[-1].detail = str(exc)
                    self.on_hop(scenario.name, result.hops[-1])
            finally:
                for undo in reversed(state.undo):
                    await undo()
        result.seconds = round(time.monotonic() - started, 1)
        return result

    # -- steps -------------------------------------------------------------------------

    async def _run_step(self, scenario: Scenario, step: Step, state: _State, hop: Hop) -> None:
        if step.inject is not None:
            state.fault_at = state.fault_at or time.time()
            state.undo.append(
                await inject(
                    step.inject, self.endpoints.gateway, self.client, self._stop, self._start
                )
            )
            hop.detail = "injected"
            return
        if step.clear is not None:
            while state.undo:
                await state.undo.pop()()
            hop.detail = "faults cleared"
            return
        if step.acknowledge is not None:
            hop.detail = await self._acknowledge_in_slack(state, step.acknowledge)
            return
        deadline, anchor = self._deadline(scenario, step, state)
        if step.within is not None:
            deadline = step.within.total_seconds()
        hop.deadline = round(deadline, 1)
        check = self._check(scenario, step, state)
        hop.detail = await self._until(check, anchor + deadline, hop.step)

    def _deadline(self, scenario: Scenario, step: Step, state: _State) -> tuple[float, float]:
        """Seconds allowed for this hop, and from when they count."""
        alert = self.timings.alert(scenario.alert, scenario.alert_labels)
        route = self.timings.route(state.labels or {"alertname": scenario.alert})
        scrape, margin, poll = self.timings.scrape, self.margin, self.timings.poll
        base = state.last
        if step.expect_alert == "pending":
            allowed = alert.window + 2 * scrape + alert.evaluation
        elif step.expect_alert == "firing":
            allowed = alert.hold + 2 * alert.evaluation
            if not _previous_was_pending(scenario, step):
                allowed += alert.window + 2 * scrape
        elif step.expect_alert == "inactive":
            allowed = alert.window + 2 * scrape + 2 * alert.evaluation
        elif step.expect_alertmanager is not None:
            allowed = 2 * alert.evaluation
        elif step.expect_incident is not None:
            if step.expect_incident.status == "resolved":
                allowed = route.group_interval + 2 * alert.evaluation + poll
            elif step.expect_incident.status == "triggered":
                allowed = route.group_wait + poll
            else:
                allowed = poll
        elif step.expect_page is not None:
            # Counted from the incident's trigger: the policy step's delay, then delivery.
            base = state.incident_at
            allowed = self._page_after(state, step.expect_page.person) + poll
        elif step.expect_steady is not None:
            allowed = 2 * step.expect_steady.hold.total_seconds()
        else:
            allowed = poll
        return allowed + margin, base

    def _page_after(self, state: _State, person: str) -> float:
        return self.timings.page_after(state.policy, person, self._on_call)

    def _check(
        self, scenario: Scenario, step: Step, state: _State
    ) -> Callable[[], Awaitable[tuple[bool, str]]]:
        if step.expect_alert is not None:
            wanted = step.expect_alert
            return lambda: self._alert_state(scenario, wanted, state)
        if step.expect_alertmanager is not None:
            return lambda: self._in_alertmanager(scenario)
        if step.expect_incident is not None:
            expected = step.expect_incident
            if expected.status == "triggered":
                return lambda: self._new_incident(
                    scenario, state, expected.severity, expected.policy
                )
            return lambda: self._incident_status(state, expected.status)
        if step.expect_page is not None:
            page = step.expect_page
            return lambda: self._paged(state, page.person, page.channels)
        if step.expect_notification is not None:
            note = step.expect_notification
            return lambda: self._notified(state, note.event, note.channels)
        if step.expect_gateway is not None:
            expected_stats = step.expect_gateway
            return lambda: self._gateway_stats(expected_stats)
        assert step.expect_steady is not None
        steady = step.expect_steady
        return lambda: self._steady(steady.stat, steady.hold.total_seconds())

    async def _until(
        self, check: Callable[[], Awaitable[tuple[bool, str]]], deadline: float, what: str
    ) -> str:
        detail = ""
        while True:
            try:
                ok, detail = await check()
            except httpx.HTTPError as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            if ok:
                return detail
            if time.monotonic() >= deadline:
                raise StepMissed(f"missed its deadline: {what} ({detail or 'not seen'})")
            await asyncio.sleep(POLL)

    # -- what each hop looks at ------------------------------------------------------------

    async def _prometheus_alerts(self, scenario: Scenario) -> list[dict[str, Any]]:
        response = await self.client.get(f"{self.endpoints.prometheus}/api/v1/alerts")
        response.raise_for_status()
        wanted = {"alertname": scenario.alert, **scenario.alert_labels}
        return [
            alert
            for alert in response.json()["data"]["alerts"]
            if all(alert["labels"].get(k) == v for k, v in wanted.items())
        ]

    async def _alert_state(
        self, scenario: Scenario, wanted: str, state: _State
    ) -> tuple[bool, str]:
        alerts = await self._prometheus_alerts(scenario)
        states = sorted({alert["state"] for alert in alerts}) or ["inactive"]
        if alerts:
            state.labels = alerts[0]["labels"]
            if wanted == "pending":
                state.seen_at = min(_wall(alert["activeAt"]) for alert in alerts)
        if wanted == "inactive":
            return states == ["inactive"], f"Prometheus: {', '.join(states)}"
        if wanted == "pending" and "firing" in states:
            return True, "Prometheus: firing (pending was shorter than a poll)"
        return wanted in states, f"Prometheus: {', '.join(states)}"

    async def _in_alertmanager(self, scenario: Scenario) -> tuple[bool, str]:
        wanted = {"alertname": scenario.alert, **scenario.alert_labels}
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("filter", f'{k}="{v}"') for k, v in wanted.items()
        ]
        response = await self.client.get(
            f"{self.endpoints.alertmanager}/api/v2/alerts",
            params=[*params, ("active", "true")],
        )
        response.raise_for_status()
        receivers = sorted({r["name"] for a in response.json() for r in a["receivers"]})
        return bool(receivers), f"Alertmanager: receivers {', '.join(receivers) or 'none'}"

    async def _gatewatch(self, path: str) -> Any:
        response = await self.client.get(
            f"{self.endpoints.gatewatch}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.endpoints.admin_token}"},
        )
        response.raise_for_status()
        return response.json()

    async def _incident_of(self, scenario: Scenario, since: float) -> dict[str, Any] | None:
        page = await self._gatewatch("/incidents?status=open")
        wanted = {"alertname": scenario.alert, **scenario.alert_labels}
        for item in page["items"]:
            if datetime.fromisoformat(item["triggered_at"]).timestamp() < since - 1:
                continue
            detail: dict[str, Any] = await self._gatewatch(f"/incidents/{item['id']}")
            if any(
                all(alert["labels"].get(k) == v for k, v in wanted.items())
                for alert in detail["alerts"]
            ):
                return detail
        return None

    async def _new_incident(
        self, scenario: Scenario, state: _State, severity: str | None, policy: str | None
    ) -> tuple[bool, str]:
        incident = await self._incident_of(scenario, state.started)
        if incident is None:
            return False, "no incident yet"
        found = f"incident #{incident['id']} {incident['severity']}, policy {incident['policy']}"
        if (severity and incident["severity"] != severity) or (
            policy and incident["policy"] != policy
        ):
            raise StepMissed(f"{found}; expected {severity or '*'}, policy {policy or '*'}")
        state.incident, state.policy = incident["id"], incident["policy"]
        state.seen_at = _wall(incident["triggered_at"])
        state.incident_at = time.monotonic()
        self._on_call = {
            entry["schedule"]: [p["id"] for p in entry["on_call"]]
            for entry in await self._gatewatch("/oncall")
        }
        return True, found

    async def _incident_status(self, state: _State, status: str) -> tuple[bool, str]:
        if state.incident is None:
            raise StepMissed("no incident to look at: expect_incident (triggered) comes first")
        incident = await self._gatewatch(f"/incidents/{state.incident}")
        stamp = incident.get(f"{status}_at")
        if incident["status"] == status and stamp:
            state.seen_at = _wall(stamp)
        return incident["status"] == status, f"incident #{state.incident} {incident['status']}"

    async def _received(self, state: _State) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"{self.endpoints.standins}/received", params={"since": state.standins_seq}
        )
        response.raise_for_status()
        return [item for item in response.json() if item["incident"] == state.incident]

    async def _standins_seq(self) -> int:
        response = await self.client.get(f"{self.endpoints.standins}/received")
        response.raise_for_status()
        items = response.json()
        return int(items[-1]["seq"]) if items else 0

    async def _paged(self, state: _State, person: str, channels: Sequence[str]) -> tuple[bool, str]:
        who = self.config.person(person)
        if who is None:
            raise StepMissed(f"no person {person!r} in the stack's config")
        reached: dict[str, float] = {}
        for item in await self._received(state):
            channel = item["channel"]
            if (
                (channel == "slack" and who.slack_user_id in item["to"])
                or (channel == "email" and who.email in item["to"])
                or (channel == "pagerduty" and item["event"] == "trigger")
            ):
                reached.setdefault(channel, item["at"])
        state.seen_at = max((reached[c] for c in channels if c in reached), default=None)
        missing = sorted(set(channels) - set(reached))
        detail = f"{person} reached on {', '.join(sorted(reached)) or 'nothing'}"
        return not missing, detail + (f"; waiting for {', '.join(missing)}" if missing else "")

    async def _notified(
        self, state: _State, event: str, channels: Sequence[str]
    ) -> tuple[bool, str]:
        events = TRIGGER_EVENTS if event == "trigger" else {event}
        reached: dict[str, float] = {}
        for item in await self._received(state):
            if item["event"] in events:
                reached.setdefault(item["channel"], item["at"])
        state.seen_at = max((reached[c] for c in channels if c in reached), default=None)
        missing = sorted(set(channels) - set(reached))
        detail = f"{event} on {', '.join(sorted(reached)) or 'nothing'}"
        return not missing, detail + (f"; waiting for {', '.join(missing)}" if missing else "")

    async def _stats(self) -> dict[str, Any]:
        response = await self.client.get(f"{self.endpoints.gateway.url}/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    async def _gateway_stats(self, expected: dict[str, str]) -> tuple[bool, str]:
        stats = await self._stats()
        seen = {key: str(stats.get(key)) for key in expected}
        return seen == expected, "gateway: " + ", ".join(f"{k}={v}" for k, v in seen.items())

    async def _steady(self, stat: str, hold: float) -> tuple[bool, str]:
        before = (await self._stats()).get(stat)
        await asyncio.sleep(hold)
        after = (await self._stats()).get(stat)
        return before == after, f"gateway {stat}: {before} → {after} over {hold:g}s"

    async def _acknowledge_in_slack(self, state: _State, person: str) -> str:
        """Press Acknowledge in Slack as `person`: a signed interactivity request."""
        who = self.config.person(person)
        secret = next((c.signing_secret for c in self.config.channels if c.type == "slack"), None)
        if who is None or not who.slack_user_id or secret is None or state.incident is None:
            raise StepMissed(
                "acknowledge needs a person with a Slack user id, a Slack channel and an incident"
            )
        body, headers = signed_button_press(
            secret,
            who.slack_user_id,
            person,
            ACK_ACTION,
            str(state.incident),
            int(time.time()),
        )
        response = await self.client.post(
            f"{self.endpoints.gatewatch}/api/v1/webhooks/slack/actions",
            content=body,
            headers=headers,
        )
        response.raise_for_status()
        text = str(response.json().get("text", ""))
        if "acknowledged by" not in text:
            raise StepMissed(f"Slack acknowledge answered: {text}")
        return text

    async def _wait_quiet(self, scenario: Scenario) -> None:
        """The previous drill's alert and incident are gone before this one starts."""
        deadline = time.monotonic() + QUIET_WITHIN
        while True:
            alerts = await self._prometheus_alerts(scenario)
            incident = await self._incident_of(scenario, 0.0)
            if not alerts and incident is None:
                return
            if time.monotonic() >= deadline:
                raise StepMissed(f"{scenario.alert} still active from before the drill")
            await asyncio.sleep(1.0)


def _wall(stamp: str) -> float:
    return parse_rfc3339(stamp).timestamp()


def _previous_was_pending(scenario: Scenario, step: Step) -> bool:
    index = scenario.steps.index(step)
    return index > 0 and scenario.steps[index - 1].expect_alert == "pending"


def _describe(step: Step, scenario: Scenario) -> str:
    action = step.action
    value = getattr(step, action)
    if action == "inject":
        fault = value
        if fault.request:
            return f"fault: {fault.request}"
        if fault.traffic:
            kinds = [k for k in ("duplicate", "bad_token") if getattr(fault.traffic, k)]
            if not fault.traffic.ack:
                kinds.append("no ACKs")
            return f"fault: traffic {fault.traffic.rate:g}/s ({', '.join(kinds) or 'plain'})"
        if fault.backlog:
            return f"fault: {fault.backlog} messages to an offline user"
        return f"fault: stop {fault.stop}"
    if action == "expect_alert":
        return f"Prometheus: {scenario.alert} {value}"
    if action == "expect_alertmanager":
        return f"Alertmanager: {scenario.alert} {value}"
    if action == "expect_incident":
        extra = ", ".join(x for x in (value.severity, value.policy) if x)
        return f"gatewatch: incident {value.status}" + (f" ({extra})" if extra else "")
    if action == "expect_page":
        return f"page: {value.person} on {', '.join(value.channels)}"
    if action == "expect_notification":
        return f"notify: {value.event} on {', '.join(value.channels)}"
    if action == "expect_gateway":
        return "gateway: " + ", ".join(f"{k}={v}" for k, v in value.items())
    if action == "expect_steady":
        return f"gateway: {value.stat} stays put for {value.hold.total_seconds():g}s"
    if action == "acknowledge":
        return f"ack: {value} presses Acknowledge in Slack"
    return "clear: faults removed"
