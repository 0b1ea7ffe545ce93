"""Grafana dashboards generated with Grafana's own SDK: the seeds' gateway dashboards, the SLO
dashboard and gatewatch's own, with the provisioning files that load them."""
