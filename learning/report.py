"""The retraining report: Markdown with the metric tables, the gate decisions (encoder and Rasa,
each on its own), the data used and the timings, plus SVG bar charts (no plotting library
needed) next to it in ``reports/``."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from learning.gate import Decision

if TYPE_CHECKING:
    from learning.rasa_round import RasaRound


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


def _gate_table(decision: Decision, current: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    lines = ["| metric | current | candidate | Δ | verdict |", "| --- | ---: | ---: | ---: | --- |"]
    for r in decision.rows:
        delta = "–" if r.delta is None else f"{r.delta:+.4f}"
        lines.append(f"| {r.metric} | {_fmt(r.current)} | {_fmt(r.candidate)} | {delta} | {r.verdict} |")
    extra = sorted(k for k in set(current) | set(candidate)
                   if k not in {r.metric for r in decision.rows} and not k.endswith("seconds"))
    if extra:
        lines += ["", "Other measurements (not gated):", "", "| metric | current | candidate |", "| --- | ---: | ---: |"]
        lines += [f"| {k} | {_fmt(current.get(k))} | {_fmt(candidate.get(k))} |" for k in extra]
    return lines


def _chart(reports_dir: Path, name: str, decision: Decision, title: str) -> str:
    rows = [(r.metric, r.current, r.candidate) for r in decision.rows]
    (reports_dir / f"{name}.svg").write_text(bar_chart_svg(rows, title), encoding="utf-8")
    return f"![{title}]({name}.svg)"


def _verdict(decision: Decision | None, promoted: bool) -> str:
    if decision is None:
        return "FAILED"
    if decision.promote and not promoted:
        return "PASSED THE GATE (dry run, not promoted)"
    return "PROMOTED" if decision.promote else "REFUSED"


def _rasa_section(reports_dir: Path, name: str, rasa: RasaRound) -> list[str]:
    lines = ["", "## Rasa", ""]
    if not rasa.retrained:
        return lines + [f"Not retrained in this round: {rasa.why}."]
    lines += [f"Retrained: {rasa.why}.", ""]
    if rasa.error or rasa.decision is None:
        return lines + ["**FAILED** — nothing promoted:", "", "```", rasa.error or "", "```"]
    lines += [f"**{_verdict(rasa.decision, rasa.promoted)}** — {rasa.decision.reason}.", ""]
    lines += _gate_table(rasa.decision, rasa.current, rasa.candidate)
    lines += ["", _chart(reports_dir, f"{name}-rasa", rasa.decision, "Rasa gate metrics: current vs candidate"), ""]
    lines += [f"- **{k}**: {v}" for k, v in rasa.data.items()]
    lines += [f"- **current model**: {rasa.current_model}", f"- **candidate model**: {rasa.candidate_model}"]
    if rasa.kept_previous:
        lines.append(f"- **previous model kept at**: {rasa.kept_previous} (`python -m learning "
                     "rollback --model rasa` restores it)")
    if rasa.reload:
        lines.append(f"- **running server**: {rasa.reload}")
    lines.append(f"- **seconds**: {json.dumps(rasa.timings)}")
    return lines


def write_report(reports_dir: Path, stamp: str, decision: Decision, current: dict[str, Any],
                 candidate: dict[str, Any], context: dict[str, Any], rasa: RasaRound | None = None,
                 dry_run: bool = False) -> Path:
    """The encoder's decision and table; the Rasa round's own decision and table when given."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    name = f"retrain-{stamp}"
    lines = [f"# Retraining round {stamp}", "",
             f"**Encoder: {_verdict(decision, not dry_run)}** — {decision.reason}."]
    if rasa is not None:
        rasa_line = (f"{_verdict(rasa.decision, rasa.promoted)} — {rasa.decision.reason}" if rasa.decision
                     else rasa.summary())
        lines += ["", f"**Rasa: {rasa_line}.**"]
    lines += [
        "",
        f"Gate: a candidate is promoted only if no gate metric is more than {decision.margin:g} lower "
        f"than the current model's and at least one is more than {decision.min_gain:g} higher. "
        "Both models are evaluated on the same data, in the same run; the encoder and Rasa are "
        "gated and promoted independently.",
        "",
        "## Encoder",
        "",
    ]
    lines += _gate_table(decision, current, candidate)
    lines += ["", _chart(reports_dir, name, decision, "Gate metrics: current vs candidate")]
    if rasa is not None:
        lines += _rasa_section(reports_dir, name, rasa)
    lines += ["", "## Data and models", ""]
    lines += [f"- **{k}**: {v if not isinstance(v, dict | list) else json.dumps(v)}" for k, v in context.items()]
    lines.append("")
    path = reports_dir / f"{name}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    (reports_dir / f"{name}.json").write_text(json.dumps(
        {"decision": decision.to_dict(), "current": current, "candidate": candidate, "context": context,
         "rasa": rasa.to_dict() if rasa else None}, indent=2, default=str) + "\n", encoding="utf-8")
    return path
