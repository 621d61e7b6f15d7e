"""Charts drawn on the server as SVG: they need no script (the pages' CSP allows none inline and
no CDN is reachable offline) and print as crisply as the text around them.

Colours come from classes styled in site.css (inline styles are refused by the CSP too); every
label is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH = 720
LABEL = 210
VALUE = 70
BAR = 14
GAP = 10


def _fmt(n: float) -> str:
    return f"{n:g}"


def _short(label: str, room: int = 14) -> str:
    """Cut a long label to fit the label column (the bar's tooltip keeps it whole)."""
    wide = sum(2 if ord(c) > 0x2E80 else 1 for c in label)
    if wide <= room * 2:
        return label
    out, used = "", 0
    for c in label:
        used += 2 if ord(c) > 0x2E80 else 1
        if used > room * 2 - 2:
            break
        out += c
    return out + "…"


def _legend(series: Sequence[str]) -> str:
    parts = []
    x = LABEL
    for index, name in enumerate(series):
        parts.append(
            f'<rect class="s{index}" x="{x}" y="2" width="12" height="12"/>'
            f'<text x="{x + 16}" y="13">{escape(name)}</text>'
        )
        x += 24 + 9 * len(name) + (8 * sum(1 for c in name if ord(c) > 0x2E80))
    return "".join(parts)


def hbars(
    rows: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[str],
    *,
    title: str,
    fmt: Callable[[float], str] = _fmt,
    maximum: float | None = None,
) -> Markup:
    """Horizontal bars, one group per row, one bar per series."""
    top = 22 if len(series) > 1 else 4
    group = len(series) * BAR + GAP
    height = top + max(len(rows), 1) * group + 4
    values = [v for _, vs in rows for v in vs if v is not None]
    scale_max = maximum or max(values, default=0) or 1
    span = WIDTH - LABEL - VALUE
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if len(series) > 1:
        out.append(_legend(series))
    for r, (label, vs) in enumerate(rows):
        y0 = top + r * group
        out.append(
            f'<text class="label" x="{LABEL - 6}" y="{y0 + len(series) * BAR / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(_short(label))}</text>'
        )
        for s, value in enumerate(vs):
            if value is None:
                continue
            y = y0 + s * BAR
            w = max(span * min(value, scale_max) / scale_max, 1)
            out.append(
                f'<rect class="s{s}" x="{LABEL}" y="{y}" width="{w:.1f}" height="{BAR - 2}">'
                f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>"
                f'<text x="{LABEL + w + 4:.1f}" y="{y + BAR - 3}">{escape(fmt(value))}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def columns(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    fmt: Callable[[float], str] = _fmt,
) -> Markup:
    """Vertical columns over time; every few labels are shown when there are many."""
    height, bottom, left = 220, 36, 40
    area = height - bottom - 10
    count = max(len(values), 1)
    step = (WIDTH - left) / count
    peak = max(values, default=0) or 1
    every = max(1, round(count / 12))
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{10 + area}" x2="{WIDTH}" y2="{10 + area}"/>',
        f'<text x="{left - 4}" y="16" text-anchor="end">{escape(fmt(peak))}</text>',
        f'<text x="{left - 4}" y="{10 + area}" text-anchor="end">0</text>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = area * value / peak
        x = left + index * step
        out.append(
            f'<rect class="s0" x="{x + step * 0.1:.1f}" y="{10 + area - h:.1f}" '
            f'width="{step * 0.8:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>"
        )
        if index % every == 0:
            out.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 14}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    out.append("</svg>")
    return Markup("".join(out))
