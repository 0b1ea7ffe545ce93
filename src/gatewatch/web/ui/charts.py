"""The error-budget burn-down as inline SVG: drawn on the server, no chart library in the
browser, readable in light and dark (colours come from the stylesheet)."""

from datetime import UTC, datetime

from markupsafe import Markup, escape

from gatewatch.slo.burndown import BudgetPoint

WIDTH, HEIGHT, LEFT, BOTTOM = 600, 200, 40, 20


def budget_chart(points: list[BudgetPoint]) -> Markup:
    if len(points) < 2:
        return Markup('<p class="muted">Not enough history in Prometheus yet.</p>')
    low = min(0.0, min(p.remaining for p in points))
    start, end = points[0].at, points[-1].at
    span = max(end - start, 1.0)

    def x(at: float) -> float:
        return LEFT + (at - start) / span * (WIDTH - LEFT - 5)

    def y(value: float) -> float:
        return 5 + (1 - (value - low) / (1 - low)) * (HEIGHT - BOTTOM - 10)

    line = " ".join(f"{x(p.at):.1f},{y(p.remaining):.1f}" for p in points)
    last = points[-1].remaining
    first_day = datetime.fromtimestamp(start, UTC).strftime("%b %d")
    last_day = datetime.fromtimestamp(end, UTC).strftime("%b %d %H:%M")
    label = escape(f"{last * 100:.1f} % of the error budget left")
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">'
        f'<line class="axis" x1="{LEFT}" y1="{y(1):.1f}" x2="{WIDTH}" y2="{y(1):.1f}"/>'
        f'<line class="zero" x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH}" y2="{y(0):.1f}"/>'
        f'<text x="0" y="{y(1) + 4:.1f}">100%</text><text x="10" y="{y(0) + 4:.1f}">0%</text>'
        f'<polyline class="line" points="{line}"/>'
        f'<text x="{LEFT}" y="{HEIGHT - 4}">{first_day}</text>'
        f'<text x="{WIDTH - 90}" y="{HEIGHT - 4}">{last_day}</text>'
        f"<title>{label}</title></svg>"
    )
