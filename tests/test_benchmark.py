"""The reproducible comparison: the oracle ceiling, `reactdiff benchmark` on the tiny budget, and the
demo writing the same tables on a busy machine as on an idle one (budgets are steps, not minutes)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from reactdiff.cli import main


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    data = tmp_path_factory.mktemp("bench") / "data"
    assert main(["synth", str(data), "--preset", "tiny", "--no-progress"]) == 0
    assert main(["prepare", str(data)]) == 0
    return data


def test_oracle_is_a_ceiling_on_the_synthetic_corpus(tiny, tmp_path):
    assert main(["evaluate", "--data", str(tiny), "--baselines", "--protocol", "corrected", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "baselines.json").read_text())["results"]
    oracle, mean_frame, mime = (results[f"{name} / corrected"] for name in ("oracle", "mean-frame", "mime"))
    assert oracle["FRDist"] < mean_frame["FRDist"] and oracle["FRDist"] < mime["FRDist"]
    assert oracle["FRDiv"] > 0.01


def test_oracle_is_refused_on_data_that_is_not_synthetic(tiny, tmp_path, capsys):
    import shutil

    real = tmp_path / "real"
    shutil.copytree(tiny, real)
    (real / "synth_labels.json").unlink()
    assert main(["evaluate", "--data", str(real), "--baseline", "oracle"]) == 2
    assert "the oracle needs a synthetic corpus" in capsys.readouterr().err


def test_benchmark_on_the_tiny_budget_has_every_row(tiny, tmp_path):
    from reactdiff.methods.registry import METHODS
    from reactdiff.trivial import REFERENCES

    out = tmp_path / "bench"
    assert main(["benchmark", "--data", str(tiny), "--budget", "tiny", "--seeds", "2", "--out", str(out), "--device", "cpu"]) == 0
    results = json.loads((out / "benchmark.json").read_text())
    rows = results["summary"]["rows"]
    assert set(rows) == set(METHODS) | set(REFERENCES)
    for name in METHODS:
        for protocol in ("official", "corrected"):
            for metric in ("FRCorr", "FRDist", "FRDiv"):
                stats = rows[name][protocol][metric]
                assert stats["n"] == 2 and math.isfinite(stats["mean"]), (name, protocol, metric)
        assert results["methods"][name]["generation"]["seconds"] > 0
    assert rows["oracle"]["corrected"]["FRDist"]["mean"] < rows["mean-frame"]["corrected"]["FRDist"]["mean"]
    markdown = (out / "benchmark.md").read_text()
    assert "Distance to the oracle" in markdown and "| oracle |" in markdown
    # A second run reuses every trained model, prediction and score.
    before = (out / "benchmark.json").read_text()
    assert main(["benchmark", "--data", str(tiny), "--budget", "tiny", "--seeds", "2", "--out", str(out), "--device", "cpu"]) == 0
    after = json.loads((out / "benchmark.json").read_text())
    assert after["summary"] == json.loads(before)["summary"]


def _table(report: str) -> str:
    """The report without its timing lines."""
    return "\n".join(line for line in report.splitlines() if not line.startswith(("- seconds", "- dataset")))


def test_demo_tables_do_not_depend_on_machine_load(tmp_path):
    args = ["--preset", "tiny", "--budget", "tiny", "--samples", "2", "--render_rows", "0"]
    assert main(["demo", "--out", str(tmp_path / "idle"), *args]) == 0
    hog = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 600\nwhile time.time() < end: pass"])
    try:
        assert main(["demo", "--out", str(tmp_path / "busy"), *args]) == 0
    finally:
        hog.kill()
    idle = (tmp_path / "idle" / "report.md").read_text().replace(str(tmp_path / "idle"), "OUT")
    busy = (tmp_path / "busy" / "report.md").read_text().replace(str(tmp_path / "busy"), "OUT")
    assert "| FRDist |" in idle
    assert _table(idle) == _table(busy)


def test_the_training_table_gives_the_wall_time_of_every_training_seed():
    from reactdiff.benchmark import render_markdown

    def run(train_seed, seed, seconds):
        stages = {"autoencoder": {"steps": 20, "seconds": seconds}, "diffusion": {"steps": 40, "seconds": 1.0}}
        return {"train_seed": train_seed, "seed": seed, "training": {"stages": stages}}

    setup = {"budget": "long", "split": "val", "data": "D", "samples": 10, "train_seeds": 2, "seeds": 2,
             "hardware": "H", "methods": ["reactdiff"]}
    entry = {"runs": [run(0, 0, 10.0), run(0, 1, 10.0), run(1, 0, 30.0), run(1, 1, 30.0)],
             "parameters": {"total": 2e6}, "generation": {"seconds": 0.5, "device": "cpu"}}
    markdown = render_markdown({"setup": setup, "summary": {"rows": {}}, "methods": {"reactdiff": entry}, "references": {}})
    assert "| reactdiff | 2.00 M | autoencoder 20, diffusion 40 | 11 / 31 | 0.500 (cpu) |" in markdown
