"""SLOs: Sloth prometheus/v1 specs, rule generation, error budgets and burn rates."""
