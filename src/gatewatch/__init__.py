"""gatewatch: alerting and incident response for real-time messaging gateways."""

__version__ = "0.1.0"
