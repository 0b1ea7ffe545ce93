"""Automated responses (e.g. the gateway's circuit breaker): started when an incident opens,
reverted when it resolves, both through the outbox and both on the timeline."""
