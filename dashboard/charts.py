"""Server-side SVG charts (no JavaScript, no CDN): bars, lines and a heat map, with escaped labels.

Values are only scaled to pixels here; the exact figures are in the table beside every chart.
"""

from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 16, 40
PALETTE = ["#417690", "#e07b39", "#4c9a2a", "#b8336a", "#7a5195", "#c9a227", "#2a9d8f", "#6c757d"]


def _svg(body: list[str], label: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label={quoteattr(label)} '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-size="11" font-family="sans-serif">'
        + "".join(body)
        + "</svg>"
    )


def _axis(top_value: float, fmt) -> list[str]:
    """The baseline and, when there is anything to scale, five gridlines with their values."""
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#999"/>']
    for step in range(5 if top_value else 0):
        value = top_value * step / 4
        y = HEIGHT - BOTTOM - plot_h * step / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>')
    return parts


def bar_chart(bars: Sequence[tuple[str, Decimal | int, str | None]], *, label: str, fmt=str) -> str:
    """One bar per (label, value, link or None); a bar with a link is clickable."""
    top = max((float(v) for _, v, _ in bars), default=0.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(bars), 1)
    body = _axis(top, fmt)
    for i, (name, value, href) in enumerate(bars):
        h = plot_h * float(value) / top if top else 0.0
        x = LEFT + i * slot + slot * 0.15
        bar = (
            f'<rect x="{x:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>'
        )
        body.append(f"<a href={quoteattr(href)}>{bar}</a>" if href else bar)
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{escape(name)}</text>'
        )
    return _svg(body, label)


def line_chart(
    x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal | None]]], *, label: str, fmt=str
) -> str:
    """One line per (name, values aligned with `x_labels`; None leaves a gap at the end), legend on the right."""
    values = [float(v) for _, points in series for v in points if v is not None]
    top = max(values, default=0.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(x_labels) - 1, 1)
    body = _axis(top, fmt)
    every = max(len(x_labels) // 12, 1)
    for i, x_label in enumerate(x_labels):
        if i % every == 0:
            x = LEFT + i * step
            body.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{escape(x_label)}</text>')
    for n, (name, points) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        coords = [
            f"{LEFT + i * step:.1f},{HEIGHT - BOTTOM - (plot_h * float(v) / top if top else 0.0):.1f}"
            for i, v in enumerate(points)
            if v is not None
        ]
        if coords:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(coords)}">')
            body.append(f"<title>{escape(name)}</title></polyline>")
        y = TOP + 14 * n
        body.append(f'<rect x="{WIDTH - RIGHT + 10}" y="{y}" width="10" height="10" fill="{colour}"/>')
        body.append(f'<text x="{WIDTH - RIGHT + 24}" y="{y + 9}">{escape(name)}</text>')
    return _svg(body, label)


def heat_map(
    rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[Decimal]], *, label: str, fmt=str
) -> str:
    """A grid of shares in [0, 1], darker for larger, each cell labelled with its value."""
    cell_w, cell_h, left, top = 56, 22, 40, 24
    width, height = left + cell_w * len(columns) + 4, top + cell_h * len(rows) + 4
    body = [
        f'<text x="{left + j * cell_w + cell_w / 2}" y="{top - 8}" text-anchor="middle">{escape(c)}</text>'
        for j, c in enumerate(columns)
    ]
    for i, row in enumerate(rows):
        y = top + i * cell_h
        body.append(f'<text x="{left - 4}" y="{y + 15}" text-anchor="end">{escape(row)}</text>')
        for j, value in enumerate(cells[i]):
            shade = min(max(float(value), 0.0), 1.0)
            text = "#fff" if shade > 0.5 else "#000"
            body.append(
                f'<rect x="{left + j * cell_w}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="rgb({int(255 - 190 * shade)},{int(255 - 137 * shade)},{int(255 - 111 * shade)})"/>'
            )
            body.append(
                f'<text x="{left + j * cell_w + cell_w / 2 - 1}" y="{y + 15}" text-anchor="middle" fill="{text}">'
                f"{escape(fmt(value))}</text>"
            )
    return _svg(body, label, width, height)
