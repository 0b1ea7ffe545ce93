"""Alerting as code: rule packs (YAML data), their build, and the promtool/amtool wrappers."""
