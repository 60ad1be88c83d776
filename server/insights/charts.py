"""Charts as inline SVG drawn on the server: no script, no CDN, nothing the CSP must allow.

Each chart is an image with a title and a one-line description for screen readers; the page
puts the same numbers in a table beside it. Colours are presentation attributes, not styles.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 40
COLOURS = {
    "open_rate": "#2563eb",
    "click_rate": "#16a34a",
    "reply_rate": "#9333ea",
    "bounce_rate": "#dc2626",
    "human": "#2563eb",
    "proxy": "#60a5fa",
    "machine": "#f59e0b",
    "scanner": "#ef4444",
    "prefetch": "#a855f7",
    "bot": "#6b7280",
    "self": "#d1d5db",
    "sent": "#2563eb",
}


def _frame(chart_id: str, title: str, desc: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart"'
        f' role="img" aria-labelledby="{chart_id}-t" aria-describedby="{chart_id}-d"'
        f' id="{chart_id}">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}'
        "</desc>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _axes(labels: list[str], top: float, fmt) -> list[str]:
    """The y axis from 0 to `top` (four steps) and one x label per slot, thinned when crowded."""
    inner_h = HEIGHT - TOP - BOTTOM
    out = []
    for step in range(5):
        y = TOP + inner_h - inner_h * step / 4
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11"'
            f' fill="#374151">{escape(fmt(top * step / 4))}</text>'
        )
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            x = _slot_x(i, len(labels)) + _slot_w(len(labels)) / 2
            out.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle"'
                f' font-size="11" fill="#374151">{escape(label)}</text>'
            )
    return out


def _slot_w(n: int) -> float:
    return (WIDTH - LEFT - RIGHT) / max(n, 1)


def _slot_x(i: int, n: int) -> float:
    return LEFT + i * _slot_w(n)


def _y(value: float, top: float) -> float:
    inner_h = HEIGHT - TOP - BOTTOM
    return TOP + inner_h - inner_h * (value / top if top else 0)


def _nice_top(value: float) -> float:
    """A round axis top at or above `value` (1, 2, 2.5, 5 times 10^k)."""
    if value <= 0:
        return 1
    scale = 1.0
    while scale * 10 <= value:
        scale *= 10
    while scale > value:
        scale /= 10
    return next(m * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= value)


def bars(chart_id: str, title: str, labels: list[str], values: list[int]) -> Markup:
    """One bar per period (counts)."""
    top = _nice_top(max(values, default=0))
    body = _axes(labels, top, lambda v: f"{v:g}")
    w = _slot_w(len(values))
    for i, value in enumerate(values):
        y = _y(value, top)
        body.append(
            f'<rect x="{_slot_x(i, len(values)) + w * 0.15:.1f}" y="{y:.1f}" width="{w * 0.7:.1f}"'
            f' height="{_y(0, top) - y:.1f}" fill="{COLOURS["sent"]}">'
            f"<title>{escape(labels[i])}: {value}</title></rect>"
        )
    desc = f"Bars per period, {labels[0]} to {labels[-1]}; the table below has the numbers."
    return _frame(chart_id, title, desc, body)


def lines(chart_id: str, title: str, labels: list[str], named: dict[str, list]) -> Markup:
    """One line per rate (fractions 0..1, None where nothing could count), drawn as percent."""
    present = [v for values in named.values() for v in values if v is not None]
    top = _nice_top(max(present, default=0) * 100) / 100
    body = _axes(labels, top, lambda v: f"{v * 100:g}%")
    w = _slot_w(len(labels))
    for name, values in named.items():
        points = [
            (_slot_x(i, len(values)) + w / 2, _y(v, top))
            for i, v in enumerate(values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{COLOURS[name]}" stroke-width="2"/>'
            )
        body += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[name]}"/>' for x, y in points
        ]
    desc = f"Lines of {', '.join(named)} per period; the table below has the numbers."
    return _frame(chart_id, title, desc, body)


def stacked(chart_id: str, title: str, labels: list[str], named: dict[str, list[int]]) -> Markup:
    """One bar per period split by kind (hits per verdict), as shares of the period's hits."""
    body = _axes(labels, 1.0, lambda v: f"{v * 100:g}%")
    w = _slot_w(len(labels))
    for i in range(len(labels)):
        total = sum(values[i] for values in named.values())
        base = 0.0
        for name, values in named.items():
            if not total or not values[i]:
                continue
            share = values[i] / total
            y_top, y_bottom = _y(base + share, 1.0), _y(base, 1.0)
            body.append(
                f'<rect x="{_slot_x(i, len(labels)) + w * 0.15:.1f}" y="{y_top:.1f}"'
                f' width="{w * 0.7:.1f}" height="{y_bottom - y_top:.1f}" fill="{COLOURS[name]}">'
                f"<title>{escape(labels[i])}: {escape(name)} {values[i]}</title></rect>"
            )
            base += share
    desc = f"Share of hits per verdict ({', '.join(named)}) per period; numbers in the table."
    return _frame(chart_id, title, desc, body)


def legend(names: list[str]) -> Markup:
    """A key of colours, for the charts with more than one series."""
    items = "".join(
        f'<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12"'
        f' fill="{COLOURS[n]}"/></svg> {escape(n.replace("_", " "))}</li>'
        for n in names
    )
    return Markup(f'<ul class="legend">{items}</ul>')
