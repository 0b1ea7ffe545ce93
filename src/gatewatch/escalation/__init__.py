"""Escalation: policies frozen per incident, durable timers, pages, ack time-outs, reminders."""
