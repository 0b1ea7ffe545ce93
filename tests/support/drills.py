"""What the shipped drills must cover, shared by the scenario checks and the end-to-end run."""

REQUIRED = [
    "latency",
    "loss",
    "ack-timeouts",
    "connection-errors",
    "duplication",
    "offline-backlog",
    "slo-burn",
    "gateway-down",
    "escalation",
    "heartbeat",
    "gatewatch-down",
    "too-many-connections",
    "cache-hit-rate",
]
