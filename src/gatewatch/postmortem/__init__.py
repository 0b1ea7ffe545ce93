"""Post-incident reviews (seed 004) and response-time reporting (MTTA / MTTR)."""
