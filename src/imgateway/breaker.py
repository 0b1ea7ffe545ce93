"""The circuit breaker: open, deliveries go to the durable offline store instead of live."""

from collections import deque


class CircuitBreaker:
    """Opens by hand, or by itself when the recent live-delivery failure rate crosses a limit.

    It never closes by itself: closing is a decision (a person's, or gatewatch's automated
    action once the alert resolves).
    """

    def __init__(self, threshold: float = 0.05, window: int = 500, minimum: int = 100) -> None:
        self.threshold = threshold
        self.minimum = minimum
        self._recent: deque[bool] = deque(maxlen=window)
        self.open = False
        self.opened_by: str | None = None

    def set(self, open_: bool, by: str) -> None:
        self.open = open_
        self.opened_by = by if open_ else None
        self._recent.clear()

    def record(self, failed: bool) -> bool:
        """Count one live delivery; True when this one opened the breaker."""
        self._recent.append(failed)
        if self.open or len(self._recent) < self.minimum:
            return False
        if sum(self._recent) / len(self._recent) > self.threshold:
            self.set(True, "failure-rate")
            return True
        return False
