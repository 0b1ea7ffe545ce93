"""The steps that do something: inject a fault, clear the faults, acknowledge in Slack."""

import time
from dataclasses import dataclass

from gatewatch.drills.context import Action, DrillContext, StepMissed
from gatewatch.drills.faults import inject
from gatewatch.drills.scenario import Fault, Scenario
from gatewatch.notify.slack import ACK_ACTION
from gatewatch.notify.slack_signature import signed_button_press


@dataclass(frozen=True)
class Inject(Action):
    fault: Fault

    def describe(self, scenario: Scenario) -> str:
        fault = self.fault
        if fault.request:
            return f"fault: {fault.request}"
        if fault.traffic:
            kinds = [k for k in ("duplicate", "bad_token") if getattr(fault.traffic, k)]
            if not fault.traffic.ack:
                kinds.append("no ACKs")
            return f"fault: traffic {fault.traffic.rate:g}/s ({', '.join(kinds) or 'plain'})"
        if fault.backlog:
            return f"fault: {fault.backlog} messages to an offline user"
        if fault.connections is not None:
            return f"fault: {fault.connections} idle clients connect and stay"
        return f"fault: stop {fault.stop}"

    async def run(self, context: DrillContext) -> str:
        state = context.state
        state.fault_at = state.fault_at or time.time()
        endpoints = context.probe.endpoints
        state.undo.append(
            await inject(
                self.fault, endpoints.gateway, context.probe.client, context.stop, context.start
            )
        )
        return "injected"


class Clear(Action):
    def describe(self, scenario: Scenario) -> str:
        return "clear: faults removed"

    async def run(self, context: DrillContext) -> str:
        while context.state.undo:
            await context.state.undo.pop()()
        return "faults cleared"


@dataclass(frozen=True)
class AcknowledgeInSlack(Action):
    person: str

    def describe(self, scenario: Scenario) -> str:
        return f"ack: {self.person} presses Acknowledge in Slack"

    async def run(self, context: DrillContext) -> str:
        """A signed interactivity request, as Slack sends when the person presses the button."""
        config, incident = context.config, context.state.incident
        who = config.person(self.person)
        secret = next((c.signing_secret for c in config.channels if c.type == "slack"), None)
        if who is None or not who.slack_user_id or secret is None or incident is None:
            raise StepMissed(
                "acknowledge needs a person with a Slack user id, a Slack channel and an incident"
            )
        body, headers = signed_button_press(
            secret, who.slack_user_id, self.person, ACK_ACTION, str(incident), int(time.time())
        )
        response = await context.probe.client.post(
            f"{context.probe.endpoints.gatewatch}/api/v1/webhooks/slack/actions",
            content=body,
            headers=headers,
        )
        response.raise_for_status()
        text = str(response.json().get("text", ""))
        if "acknowledged by" not in text:
            raise StepMissed(f"Slack acknowledge answered: {text}")
        return text
