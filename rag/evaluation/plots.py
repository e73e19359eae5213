"""Small inline SVG charts for report.html: no plotting library, nothing to load.

Every label is escaped: case ids and metric names come from user files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from rag.evaluation.metrics import percentile

_BAR = "#3b6ea5"
_OLD = "#b7c7d9"
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def metric_bars(
    values: Mapping[str, float | None],
    baseline: Mapping[str, float | None] | None = None,
    width: int = 560,
) -> str:
    """Horizontal bars for metrics in [0, 1]; a thin grey bar under each shows the baseline."""
    rows = list(values.items())
    label_w, row_h = 150, 26
    plot_w = width - label_w - 60
    height = row_h * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="metric bars" {_FONT}>'
    ]
    for i, (name, value) in enumerate(rows):
        y = 10 + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{escape(name)}</text>'
        )
        old = (baseline or {}).get(name)
        if isinstance(old, int | float):
            parts.append(
                f'<rect x="{label_w}" y="{y + 15}" width="{_clamp(old) * plot_w:.1f}" '
                f'height="4" fill="{_OLD}"><title>baseline {old:.3f}</title></rect>'
            )
        if isinstance(value, int | float):
            parts.append(
                f'<rect x="{label_w}" y="{y + 2}" width="{_clamp(value) * plot_w:.1f}" '
                f'height="12" fill="{_BAR}"><title>{escape(name)} {value:.3f}</title></rect>'
            )
            parts.append(
                f'<text x="{label_w + _clamp(value) * plot_w + 4:.1f}" y="{y + 13}">'
                f"{value:.3f}</text>"
            )
        else:
            parts.append(f'<text x="{label_w + 4}" y="{y + 13}" fill="#888">n/a</text>')
    axis_y = 10 + len(rows) * row_h
    parts.append(
        f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" '
        'stroke="#999"/>'
    )
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + tick * plot_w
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">{tick:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def latency_histogram(latencies_ms: Sequence[float], width: int = 560, bins: int = 20) -> str:
    """A histogram of per-case latency with p50 and p95 marked."""
    height, left, bottom, top = 200, 40, 30, 10
    if not latencies_ms:
        return '<p class="muted">No latencies: every case failed before answering.</p>'
    low, high = min(latencies_ms), max(latencies_ms)
    span = (high - low) or 1.0
    counts = [0] * bins
    for value in latencies_ms:
        counts[min(bins - 1, int((value - low) / span * bins))] += 1
    peak = max(counts)
    plot_w, plot_h = width - left - 10, height - top - bottom
    bar_w = plot_w / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="latency histogram" {_FONT}>'
    ]
    for i, count in enumerate(counts):
        h = count / peak * plot_h
        x = left + i * bar_w
        start = low + span * i / bins
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
            f'height="{h:.1f}" fill="{_BAR}"><title>{start:.0f} ms: {count}</title></rect>'
        )
    for q, colour in ((50, "#2a9d55"), (95, "#c0392b")):
        value = percentile(latencies_ms, q) or low
        x = left + (value - low) / span * plot_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
            f'stroke="{colour}" stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{top + 12}" fill="{colour}">p{q}</text>'
        )
    axis_y = top + plot_h
    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#999"/>'
        f'<text x="{left}" y="{axis_y + 16}">{low:.0f} ms</text>'
        f'<text x="{left + plot_w}" y="{axis_y + 16}" text-anchor="end">{high:.0f} ms</text>'
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{peak}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, float(value)))
