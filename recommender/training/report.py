"""The retraining report: Markdown with the metric table, the gate decision, the data used and
the timings, plus an SVG bar chart (no plotting library needed) next to it in ``reports/``."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from recommender.training.gate import Decision


def bar_chart_svg(rows: list[tuple[str, float | None, float | None]], title: str) -> str:
    """Grouped horizontal bars (current grey, candidate blue) for metrics in [0, 1]."""
    bar, gap, left, width = 14, 12, 190, 360
    height = 50 + len(rows) * (2 * bar + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{html.escape(title)}</text>',
        '<rect x="10" y="30" width="10" height="10" fill="#9aa4ad"/><text x="24" y="39">current</text>',
        '<rect x="90" y="30" width="10" height="10" fill="#2b6cb0"/><text x="104" y="39">candidate</text>',
    ]
    y = 50
    for name, current, candidate in rows:
        parts.append(f'<text x="10" y="{y + bar + 4}">{html.escape(name)}</text>')
        for value, colour, offset in ((current, "#9aa4ad", 0), (candidate, "#2b6cb0", bar)):
            if value is None:
                continue
            w = max(1.0, min(1.0, float(value)) * width)
            parts.append(f'<rect x="{left}" y="{y + offset}" width="{w:.1f}" height="{bar - 2}" fill="{colour}"/>')
            parts.append(f'<text x="{left + w + 4:.1f}" y="{y + offset + bar - 4}">{value:.3f}</text>')
        y += 2 * bar + gap
    parts.append("</svg>")
    return "\n".join(parts)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def write_report(reports_dir: Path, stamp: str, decision: Decision, current: dict[str, Any],
                 candidate: dict[str, Any], context: dict[str, Any]) -> Path:
    reports_dir.mkdir(parents=True, exist_ok=True)
    name = f"retrain-{stamp}"
    chart_rows = [(r.metric, r.current, r.candidate) for r in decision.rows]
    (reports_dir / f"{name}.svg").write_text(bar_chart_svg(chart_rows, "Gate metrics: current vs candidate"),
                                             encoding="utf-8")
    lines = [
        f"# Retraining round {stamp}",
        "",
        f"**Decision: {'PROMOTED' if decision.promote else 'REFUSED'}** — {decision.reason}.",
        "",
        f"Gate: a candidate is promoted only if no gate metric is more than {decision.margin:g} lower "
        f"than the current model's and at least one is more than {decision.min_gain:g} higher. "
        "Both models are evaluated on the same data, in the same run.",
        "",
        "| metric | current | candidate | Δ | verdict |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for r in decision.rows:
        delta = "–" if r.delta is None else f"{r.delta:+.4f}"
        lines.append(f"| {r.metric} | {_fmt(r.current)} | {_fmt(r.candidate)} | {delta} | {r.verdict} |")
    extra = sorted(k for k in set(current) | set(candidate)
                   if k not in {r.metric for r in decision.rows} and not k.endswith("seconds"))
    if extra:
        lines += ["", "Other measurements (not gated):", "", "| metric | current | candidate |", "| --- | ---: | ---: |"]
        lines += [f"| {k} | {_fmt(current.get(k))} | {_fmt(candidate.get(k))} |" for k in extra]
    lines += ["", f"![gate metrics]({name}.svg)", "", "## Data and models", ""]
    lines += [f"- **{k}**: {v if not isinstance(v, dict | list) else json.dumps(v)}" for k, v in context.items()]
    lines.append("")
    path = reports_dir / f"{name}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    (reports_dir / f"{name}.json").write_text(json.dumps(
        {"decision": decision.to_dict(), "current": current, "candidate": candidate, "context": context},
        indent=2, default=str) + "\n", encoding="utf-8")
    return path
