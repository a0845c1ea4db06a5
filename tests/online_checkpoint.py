"""The tiny online ReactDiff checkpoint the streaming, server and browser tests use: trained in the
test session through the CLI (tiny synthetic corpus, the method's "tiny" budget, preset
"tiny-online" with a 10-frame window), once per pytest session (cached under the base temp folder)."""

from __future__ import annotations

from pathlib import Path

#: Short window: the live listener answers within 10 frames (0.4 s).
WINDOW = 10


def tiny_online_checkpoint(tmp_path_factory) -> Path:
    import yaml

    from reactdiff.cli import main
    from reactdiff.methods.registry import METHODS

    import os

    # Development shortcut: reuse a folder this function filled in an earlier run.
    base = Path(os.environ.get("REACTDIFF_TEST_ONLINE_TINY") or tmp_path_factory.getbasetemp() / "online-tiny")
    checkpoint = base / "run" / "diffusion"
    if (checkpoint / "weights.safetensors").exists() or (base / "done").exists():
        return checkpoint
    data = base / "data"
    assert main(["synth", str(data), "--preset", "tiny", "--no-progress"]) == 0
    assert main(["prepare", str(data)]) == 0
    budget = METHODS["reactdiff"].budget("tiny")
    sections = {}
    for stage, values in budget.items():
        nested: dict = {}
        for key, value in {**values, "device": "cpu", "seed": 0}.items():
            target = nested
            *parents, leaf = key.split(".")
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = value
        sections[stage] = nested
    sections["autoencoder"]["preset"] = "tiny-online"
    sections["autoencoder"]["model"] = {"diffusion": {"window": WINDOW}, "autoencoder": {"context_frames": WINDOW}}
    config = base / "budget.yaml"
    config.write_text(yaml.safe_dump(sections))
    assert main(["train", "reactdiff", "--data", str(data), "--out", str(base / "run"), "--config", str(config)]) == 0
    (base / "done").write_text("")
    return checkpoint
