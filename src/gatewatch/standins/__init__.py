"""Local stand-ins for remote SaaS (Slack, PagerDuty) and an SMTP sink, for demos and drills."""
