"""The gateway's Prometheus metrics; the im-gateway rule pack uses exactly these names."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0)


class GatewayMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.active_connections = Gauge(
            "im_gateway_active_connections", "Open WebSocket connections", registry=r
        )
        self.connections_opened = Counter(
            "im_gateway_connections_opened", "WebSocket connections accepted", registry=r
        )
        self.connections_closed = Counter(
            "im_gateway_connections_closed", "WebSocket connections closed", registry=r
        )
        self.connection_errors = Counter(
            "im_gateway_connection_errors",
            "Connections refused or failed, by reason",
            ["reason"],
            registry=r,
        )
        self.messages_received = Counter(
            "im_gateway_messages_received", "send frames accepted from clients", registry=r
        )
        self.messages_delivered = Counter(
            "im_gateway_messages_delivered",
            "Deliveries by outcome: success (live), offline (stored), failed (lost)",
            ["status"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "im_gateway_message_delivery_latency_seconds",
            "From a send being accepted to the recipient's ACK",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.messages_lost = Counter(
            "im_gateway_messages_lost", "Accepted messages neither delivered nor stored", registry=r
        )
        self.ack_timeouts = Counter(
            "im_gateway_ack_timeouts", "Deliveries not ACKed within the time-out", registry=r
        )
        self.acks = Counter("im_gateway_acks", "ACKs received from recipients", registry=r)
        self.offline_queue_size = Gauge(
            "im_gateway_offline_queue_size", "Messages waiting in the offline store", registry=r
        )
        self.duplicates = Counter(
            "im_gateway_duplicate_messages",
            "Re-sent message ids caught by deduplication",
            registry=r,
        )
        self.registry_cache_hits = Counter(
            "im_gateway_registry_cache_hits", "User-registry lookups served from cache", registry=r
        )
        self.registry_cache_misses = Counter(
            "im_gateway_registry_cache_misses",
            "User-registry lookups that missed the cache",
            registry=r,
        )
        self.circuit_breaker_state = Gauge(
            "im_gateway_circuit_breaker_state", "1 while the circuit breaker is open", registry=r
        )
        self.conversations_created = Counter(
            "im_gateway_conversations_created",
            "Group conversations opened: success, rejected (bad request) or failed",
            ["status"],
            registry=r,
        )
        self.searches = Counter(
            "im_gateway_searches",
            "Searches by index and outcome",
            ["index_type", "status"],
            registry=r,
        )
        self.search_latency = Histogram(
            "im_gateway_search_latency_seconds",
            "Search latency by index",
            ["index_type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_request_duration = Histogram(
            "im_gateway_http_request_duration_seconds",
            "HTTP API requests, by route and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.shutdown_duration = Histogram(
            "im_gateway_shutdown_duration_seconds",
            "How long a drain took",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60),
            registry=r,
        )
