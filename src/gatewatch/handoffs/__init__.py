"""Hand-off announcements: a schedule's channel hears who is on call whenever that changes."""
