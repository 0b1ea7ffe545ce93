"""Slack's interactivity requests: the Acknowledge / Resolve buttons of a page, signed by
Slack with the channel's signing secret."""

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gatewatch.config import GatewatchConfig
from gatewatch.errors import Conflict, NotFound
from gatewatch.notify.slack import ACK_ACTION, ESCALATE_ACTION, RESOLVE_ACTION
from gatewatch.notify.slack_signature import InvalidSlackSignature, verify_slack_request
from gatewatch.web.auth import API_ERRORS, Unauthorized
from gatewatch.web.deps import ConfigDep, EscalationDep, IncidentsDep, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["ingest"])
SLACK_BODY_LIMIT = 1024 * 1024
ACTIONS_PATH = "/api/v1/webhooks/slack/actions"


def _slack_actor(config: GatewatchConfig, user: dict[str, Any]) -> str:
    user_id = str(user.get("id", ""))
    person = next((p for p in config.people if p.slack_user_id == user_id), None)
    return person.id if person else f"slack:{user.get('username') or user_id}"


@router.post(ACTIONS_PATH.removeprefix("/api/v1"), responses=API_ERRORS)
async def slack_actions(
    request: Request,
    config: ConfigDep,
    runtime: RuntimeDep,
    incidents: IncidentsDep,
    escalation: EscalationDep,
) -> dict[str, str]:
    """Slack's interactivity request for the Acknowledge / Resolve buttons, signature checked."""
    body = await request.body()
    if len(body) > SLACK_BODY_LIMIT:
        raise Conflict("body too large")
    secrets = [c.signing_secret for c in config.channels if c.type == "slack" and c.signing_secret]
    try:
        verify_slack_request(
            secrets,
            request.headers.get("x-slack-request-timestamp"),
            request.headers.get("x-slack-signature"),
            body,
            runtime.clock.now().timestamp(),
        )
    except InvalidSlackSignature as exc:
        raise Unauthorized(f"slack request refused: {exc}") from None
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
        action = payload["actions"][0]
        action_id = action["action_id"]
    except (KeyError, IndexError, ValueError, TypeError, UnicodeDecodeError):
        raise Conflict("not a block_actions payload with a gatewatch button") from None
    if action_id not in (ACK_ACTION, RESOLVE_ACTION, ESCALATE_ACTION):
        # Slack posts clicks on link buttons (open incident, runbook) too: acknowledge them,
        # or Slack shows the person a warning.
        return {"text": "nothing to do"}
    try:
        incident_id = int(action["value"])
    except (KeyError, ValueError, TypeError):
        raise Conflict("a gatewatch button without an incident id") from None
    actor = _slack_actor(config, payload.get("user") or {})
    try:
        if action_id == ACK_ACTION:
            await run_in_threadpool(incidents.acknowledge, incident_id, actor, None)
            text = f"Incident #{incident_id} acknowledged by {actor}"
        elif action_id == ESCALATE_ACTION:
            step = await run_in_threadpool(escalation.escalate_now, incident_id, actor)
            text = f"Incident #{incident_id} escalated by {actor}: step {step} paged"
        else:
            await run_in_threadpool(incidents.resolve, incident_id, actor, None)
            text = f"Incident #{incident_id} resolved by {actor}"
    except (Conflict, NotFound) as exc:
        text = str(exc)
    return {"text": text}
