"""Bad settings are one-line errors naming the setting, before any work is done: no traceback, and
nothing written."""

from __future__ import annotations

import pytest
from test_train import random_corpus

from reactdiff.cli import main


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return random_corpus(tmp_path_factory.mktemp("cli-errors") / "data", pairs={"train": 2, "val": 1})


def _one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--model.autoencoder.hidden_dim", "-8"], "model.autoencoder.hidden_dim"),
        (["--model.autoencoder.hidden_dim", "30", "--model.autoencoder.num_heads", "4"], "model.autoencoder.num_heads"),
        (["--model.diffusion.sample_steps", "5000"], "model.diffusion.sample_steps"),
        (["--model.autoencoder.dropout", "1.5"], "model.autoencoder.dropout"),
        (["--model.autoencoder.latent_dim", "abc"], "model.autoencoder.latent_dim"),
        (["--optim.lr", "-1"], "optim.lr"),
        (["--crop_frames", "75"], "crop_frames"),
        (["--preset", "huge"], "preset"),
        (["--device", "cuda:7"], "--device"),
    ],
)
def test_bad_training_settings(data, tmp_path, capsys, flags, needle):
    out = tmp_path / "run"
    assert main(["train", "reactdiff", "autoencoder", "--data", str(data), "--out", str(out), *flags]) == 2
    _one_line_error(capsys, needle)
    assert not (out / "train_config.json").exists() and not (out / "last").exists()


def test_unknown_method_or_stage_is_refused_by_the_parser(data, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "nosuchmethod", "--data", str(data), "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "invalid choice: 'nosuchmethod'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "reactdiff", "nosuchstage", "--data", str(data), "--out", str(tmp_path)])
    assert "invalid choice: 'nosuchstage'" in capsys.readouterr().err


def test_get_method_names_the_registered_ones():
    from reactdiff.errors import ConfigError
    from reactdiff.methods.registry import get_method

    with pytest.raises(ConfigError, match="registered methods: reactdiff"):
        get_method("nosuchmethod")
    with pytest.raises(ConfigError, match="its stages: autoencoder, diffusion"):
        get_method("reactdiff").stage("nosuchstage")


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-errors-run")
    budget = ["--preset", "tiny", "--steps", "2", "--batch_size", "2", "--crop_frames", "50", "--device", "cpu"]
    assert main(["train", "reactdiff", "autoencoder", "--data", str(data), "--out", str(out / "ae"), *budget]) == 0
    assert main(["train", "reactdiff", "diffusion", "--data", str(data), "--autoencoder", str(out / "ae"), "--out", str(out / "dm"),
                 "--steps", "2", "--batch_size", "2", "--crop_frames", "50", "--device", "cpu"]) == 0
    return out


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--steps", "5000"], "--steps: 5000 is outside 1..50"),
        (["--steps", "0"], "--steps"),
        (["--sampler", "foo"], "--sampler"),
        (["--eta", "-1"], "--eta"),
        (["--option", "momentum=0.9"], "takes no sampling option 'momentum'"),
        (["--device", "cuda"], "--device"),
        (["--samples", "0"], "--samples"),
    ],
)
def test_bad_generation_settings(data, trained, tmp_path, capsys, flags, needle):
    out = tmp_path / "p.npz"
    argv = ["generate", "--checkpoint", str(trained / "dm"), "--data", str(data), "--out", str(out), *flags]
    if "--device" not in flags:
        argv += ["--device", "cpu"]
    assert main(argv) == 2
    _one_line_error(capsys, needle)
    assert not out.exists()


def test_generate_refuses_a_folder_as_output_before_generating(data, trained, tmp_path, capsys):
    assert main(["generate", "--checkpoint", str(trained / "dm"), "--data", str(data), "--out", str(tmp_path), "--device", "cpu"]) == 2
    _one_line_error(capsys, "is a folder")


def test_second_stage_needs_the_first_stage_checkpoint(data, trained, tmp_path, capsys):
    assert main(["train", "reactdiff", "diffusion", "--data", str(data), "--autoencoder", str(trained / "dm"), "--out", str(tmp_path / "x")]) == 2
    _one_line_error(capsys, "is a reactdiff diffusion checkpoint", "needs a reactdiff autoencoder checkpoint")


def test_a_run_folder_is_locked_while_training(data, tmp_path, capsys):
    from reactdiff.errors import ConfigError
    from reactdiff.train.lock import RunLock

    with RunLock(tmp_path / "run"):
        assert main(["train", "reactdiff", "autoencoder", "--data", str(data), "--out", str(tmp_path / "run"), "--preset", "tiny", "--device", "cpu"]) == 2
        _one_line_error(capsys, "a training run is already writing here", "pid")
        with pytest.raises(ConfigError):
            RunLock(tmp_path / "run").__enter__()
    with RunLock(tmp_path / "run"):  # released: the folder can be used again
        pass


def test_a_refused_resume_leaves_the_saved_settings_alone(data, trained, tmp_path, capsys):
    import shutil

    run = tmp_path / "ae"
    shutil.copytree(trained / "ae", run)
    before = (run / "train_config.json").read_text()
    assert main(["train", "reactdiff", "autoencoder", "--data", str(data), "--out", str(run), "--model.autoencoder.latent_dim", "16", "--device", "cpu"]) == 2
    _one_line_error(capsys, "other model settings")
    assert (run / "train_config.json").read_text() == before


def test_react_warns_when_the_audio_is_much_shorter_than_the_video(tmp_path):
    from pathlib import Path

    import numpy as np
    import soundfile

    from reactdiff.react import _audio_warnings

    media = Path(__file__).resolve().parents[1].parent / "shared" / "media"
    short = tmp_path / "short.wav"
    soundfile.write(str(short), np.full(16000, 0.01, np.float32), 16000)
    (warning,) = _audio_warnings(media / "face_expressive.mp4", short)
    assert "short.wav: audio is 1.00 s" in warning and "19.68 s" in warning
    assert _audio_warnings(media / "face_expressive.mp4", media / "conversation_16k.wav") == []


@pytest.mark.parametrize("flags, needle", [(["--samples", "0"], "samples"), (["--steps", "0"], "steps"), (["--steps", "999"], "--steps")])
def test_react_refuses_bad_settings_before_extracting(trained, tmp_path, capsys, flags, needle):
    from pathlib import Path

    media = Path(__file__).resolve().parents[1].parent / "shared" / "media"
    out = tmp_path / "react"
    assert main(["react", str(media / "face_expressive.mp4"), "--checkpoint", str(trained / "dm"), "--out", str(out), *flags]) == 2
    _one_line_error(capsys, needle)
    assert not out.exists()
