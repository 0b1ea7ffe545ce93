"""Severity levels in the configured order, most urgent first."""

from collections.abc import Iterable

from gatewatch.config.schema import SeverityLevel


class SeverityScale:
    """Maps an alert's `severity` label to a configured level and compares levels."""

    def __init__(self, levels: list[SeverityLevel], default: str) -> None:
        self._rank = {level.name: index for index, level in enumerate(levels)}
        self._folded = {level.name.lower(): level.name for level in levels}
        self.default = default

    def level_of(self, labels: dict[str, str]) -> str:
        """The configured level named by the label (case-insensitive), else the default."""
        return self._folded.get(labels.get("severity", "").lower(), self.default)

    def most_urgent(self, levels: Iterable[str]) -> str:
        return min(levels, key=self._rank.__getitem__)

    def more_urgent(self, candidate: str, current: str) -> bool:
        return self._rank[candidate] < self._rank[current]
