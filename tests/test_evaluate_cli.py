"""``reactdiff evaluate`` end to end on a tiny synthetic corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reactdiff.trivial import BASELINES, load_baseline_inputs, make_baseline
from reactdiff.cli import COMMAND_MODULES, main


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    assert "synth" in COMMAND_MODULES
    root = tmp_path_factory.mktemp("corpus")
    assert main(["synth", str(root), "--preset", "tiny", "--no-progress"]) == 0
    return root


def read_report(path):
    return json.loads(path.read_text())["results"]


def test_baselines_table_has_all_baselines_and_both_protocols(corpus, tmp_path, capsys):
    command = ["evaluate", "--data", str(corpus), "--split", "val", "--baselines", "--num_samples", "3"]
    assert main(command + ["--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    results = read_report(tmp_path / "baselines.json")
    # The synthetic corpus also gets its oracle row.
    assert set(results) == {f"{name} / {protocol}" for name in (*BASELINES, "oracle") for protocol in ("official", "corrected")}
    assert "| FRCorr |" in printed and "gt / corrected" in printed
    assert (tmp_path / "baselines.md").read_text().count("| FRDist |") == 1
    assert json.loads((tmp_path / "baselines_config.json").read_text())["num_samples"] == 3
    gt = results["gt / corrected"]
    assert gt["FRDist"] == 0.0
    assert gt["FRCorr_per_reaction"] == pytest.approx(1.0)
    assert gt["FRCorr"] == pytest.approx(3.0)
    assert results["gt / official"]["FRCorr"] <= 3.0
    assert results["random / corrected"]["FRDist"] > results["gt / corrected"]["FRDist"]
    assert results["mime / corrected"]["FRSyn"] == 0.0  # the speaker copied is perfectly in sync
    assert results["mean-frame / official"]["FRVar"] == 0.0


def test_predictions_file_in_evaluation_order_is_scored(corpus, tmp_path, capsys):
    inputs = load_baseline_inputs(corpus, "val")
    path = tmp_path / "gt.npz"
    make_baseline("gt", inputs, num_samples=3).save(path)
    assert main(["evaluate", "--data", str(corpus), "--split", "val", "--predictions", str(path), "--protocol", "official"]) == 0
    results = read_report(tmp_path / "gt_metrics.json")
    assert list(results) == ["official"]
    assert results["official"]["FRDist"] == 0.0 and "FD-3dmm-frame" in results["official"]
    assert "protocol(s): official" in capsys.readouterr().out


def test_predictions_in_the_wrong_order_are_refused(corpus, tmp_path, capsys):
    inputs = load_baseline_inputs(corpus, "val", with_3dmm=False)
    predictions = make_baseline("random", inputs, num_samples=2)
    order = np.arange(len(predictions.speaker_path))
    order[[1, 2]] = order[[2, 1]]
    predictions.emotion = predictions.emotion[order]
    predictions.speaker_path = [predictions.speaker_path[i] for i in order]
    predictions.listener_path = [predictions.listener_path[i] for i in order]
    path = tmp_path / "shuffled.npz"
    predictions.save(path)
    assert main(["evaluate", "--data", str(corpus), "--split", "val", "--predictions", str(path)]) == 2
    error = capsys.readouterr().err
    assert str(path) in error and "row 1 is speaker" in error
    assert not (tmp_path / "shuffled_metrics.json").exists()


def test_bad_config_value_is_refused(corpus, capsys):
    assert main(["evaluate", "--data", str(corpus), "--baseline", "gt", "--protocol", "best"]) == 2
    assert "protocol" in capsys.readouterr().err
