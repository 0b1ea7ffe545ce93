"""A notification message as the dispatcher builds it, for format and stand-in tests."""

from gatewatch.notify.message import Kind, Message, Recipient


def sample_message(
    kind: Kind = Kind.TRIGGER, title: str = "IM gateway down", **extra: object
) -> Message:
    fields: dict[str, object] = {
        "kind": kind,
        "incident_id": 42,
        "title": title,
        "text": "gw-1 stopped answering",
        "severity": "critical",
        "status": "triggered",
        "service": "im-gateway",
        "incident_url": "http://gw.test/ui/incidents/42",
        "runbook_url": "http://gw.test/runbooks/gateway-down",
        "labels": {"alertname": "IMGatewayServiceDown", "instance": "gw-1:8080"},
        "triggered_at": "2026-11-22T10:00:00+00:00",
        "recipient": Recipient("alice", "Alice", "alice@im.example", "UALICE", None),
        "actor": "bob",
    }
    fields.update(extra)
    return Message(**fields)  # type: ignore[arg-type]
