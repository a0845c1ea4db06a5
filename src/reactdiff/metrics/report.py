"""Evaluation reports: one table for the terminal and Markdown, and a JSON file, written atomically."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from reactdiff.io import save_json, save_text

#: Rows of the report table: metric name and which direction is better.
METRIC_ROWS = (
    ("FRCorr", "higher"),
    ("FRCorr_per_reaction", "higher"),
    ("FRDist", "lower"),
    ("FRDist_per_reaction", "lower"),
    ("FRDiv", "higher"),
    ("FRVar", "higher"),
    ("FRDvs", "higher"),
    ("FRSyn", "lower"),
    ("FRSyn_all_predictions", "lower"),
    ("FRSyn_no_valid_lag", "count"),
    ("FD-emotion-frame", "lower"),
    ("FD-emotion-window", "lower"),
    ("FD-3dmm-frame", "lower"),
    ("FD-3dmm-window", "lower"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return f"{value:.4f}"


def format_table(columns: dict[str, dict[str, Any]]) -> str:
    """A Markdown table: one row per metric present in any column, one column per result
    (e.g. ``"official"``, ``"gt / corrected"``); the protocol of every column is in its header."""
    names = list(columns)
    header = ["metric", "better"] + [
        name if columns[name].get("protocol", "") in name else f"{name} ({columns[name].get('protocol')})"
        for name in names
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for metric, better in METRIC_ROWS:
        if not any(metric in result for result in columns.values()):
            continue
        cells = [_cell(columns[name].get(metric)) for name in names]
        lines.append("| " + " | ".join([metric, better] + cells) + " |")
    return "\n".join(lines)


def _notes(columns: dict[str, dict[str, Any]]) -> list[str]:
    notes: dict[str, None] = {}
    for result in columns.values():
        for note in result.get("notes", []):
            notes.setdefault(note)
    return list(notes)


def render_markdown(title: str, context: dict[str, Any], columns: dict[str, dict[str, Any]], warnings=()) -> str:
    """The Markdown report: title, warnings a reader must see first, what was evaluated, the table
    and the protocol notes."""
    lines = [f"# {title}", ""]
    if warnings:
        lines += [f"**Warning:** {warning}" for warning in warnings] + [""]
    lines += [f"- {key}: {value}" for key, value in context.items()]
    lines += ["", format_table(columns), "", "Notes:", ""]
    lines += [f"- {note}" for note in _notes(columns)]
    return "\n".join(lines) + "\n"


def _json_safe(value: Any) -> Any:
    """NaN (e.g. FRSyn with no usable lag) becomes null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def write_reports(out_dir: str | Path, stem: str, title: str, context: dict[str, Any], columns, warnings=()) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``out_dir`` atomically; return both paths."""
    out_dir = Path(out_dir)
    json_path, markdown_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    save_json(json_path, _json_safe({"title": title, "warnings": list(warnings), "context": context, "results": columns}))
    save_text(markdown_path, render_markdown(title, context, columns, warnings))
    return json_path, markdown_path
