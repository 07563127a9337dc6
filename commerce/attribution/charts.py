"""Small SVG bar charts drawn on the server: no chart library, no CDN, readable without JS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape


def bar_chart(
    points: Sequence[tuple[date, int]],
    *,
    label: str,
    value_text: Callable[[int], str] = str,
    width: int = 600,
    height: int = 160,
) -> Markup:
    """Bars per day with a title per bar (hover/screen readers) and the maximum on the axis."""
    pad_left, pad_bottom, pad_top = 48, 20, 8
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - pad_top
    top = max((v for _, v in points), default=0) or 1
    step = plot_w / max(len(points), 1)
    bars = []
    for i, (day, value) in enumerate(points):
        h = round(plot_h * value / top, 1)
        x = round(pad_left + i * step + 1, 1)
        y = round(pad_top + plot_h - h, 1)
        tip = escape(f"{day.isoformat()}: {value_text(value)}")
        bars.append(
            f'<rect class="bar" x="{x}" y="{y}" width="{max(step - 2, 1):.1f}" height="{h}">'
            f"<title>{tip}</title></rect>"
        )
    first = escape(points[0][0].isoformat()) if points else ""
    last = escape(points[-1][0].isoformat()) if points else ""
    axis_y = pad_top + plot_h
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<line class="axis" x1="{pad_left}" y1="{axis_y}" x2="{width - 4}" y2="{axis_y}"/>'
        f'<text class="tick" x="{pad_left - 4}" y="{pad_top + 10}" text-anchor="end">'
        f"{escape(value_text(top if any(v for _, v in points) else 0))}</text>"
        f'<text class="tick" x="{pad_left - 4}" y="{axis_y}" text-anchor="end">0</text>'
        + "".join(bars)
        + f'<text class="tick" x="{pad_left}" y="{height - 4}">{first}</text>'
        f'<text class="tick" x="{width - 4}" y="{height - 4}" text-anchor="end">{last}</text>'
        "</svg>"
    )
    return Markup(svg)


def stacked_bar_chart(
    layers: Sequence[tuple[str, Sequence[tuple[date, int]]]],
    *,
    label: str,
    value_text: Callable[[int], str] = str,
    width: int = 600,
    height: int = 160,
) -> Markup:
    """Bars per day stacked from several named series over the same days (the first at the
    bottom, drawn with class `layer-0`, `layer-1`...); each part has its title."""
    days = [day for day, _ in layers[0][1]] if layers else []
    totals = [sum(points[i][1] for _, points in layers) for i in range(len(days))]
    pad_left, pad_bottom, pad_top = 48, 20, 8
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - pad_top
    top = max(totals, default=0) or 1
    step = plot_w / max(len(days), 1)
    parts = []
    for i, day in enumerate(days):
        x = round(pad_left + i * step + 1, 1)
        base: float = pad_top + plot_h
        for n, (name, points) in enumerate(layers):
            value = points[i][1]
            if not value:
                continue
            h = round(plot_h * value / top, 1)
            base = round(base - h, 1)
            tip = escape(f"{day.isoformat()} {name}: {value_text(value)}")
            parts.append(
                f'<rect class="bar layer-{n}" x="{x}" y="{base}" width="{max(step - 2, 1):.1f}" '
                f'height="{h}"><title>{tip}</title></rect>'
            )
    first = escape(days[0].isoformat()) if days else ""
    last = escape(days[-1].isoformat()) if days else ""
    axis_y = pad_top + plot_h
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<line class="axis" x1="{pad_left}" y1="{axis_y}" x2="{width - 4}" y2="{axis_y}"/>'
        f'<text class="tick" x="{pad_left - 4}" y="{pad_top + 10}" text-anchor="end">'
        f"{escape(value_text(top if any(totals) else 0))}</text>"
        f'<text class="tick" x="{pad_left - 4}" y="{axis_y}" text-anchor="end">0</text>'
        + "".join(parts)
        + f'<text class="tick" x="{pad_left}" y="{height - 4}">{first}</text>'
        f'<text class="tick" x="{width - 4}" y="{height - 4}" text-anchor="end">{last}</text>'
        "</svg>"
    )
    return Markup(svg)
