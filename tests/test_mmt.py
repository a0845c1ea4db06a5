"""Multi-Modality Transformer: any subset of streams, clear errors, chunk-local attention."""

import pytest
import torch

from reactdiff.nn.layers import ContextChunks
from reactdiff.methods.reactdiff.mmt import MultiModalityTransformer

DIMS = {"emotion": 25, "3dmm": 58, "mfcc": 26, "prosody": 3}
KINDS = {"emotion": "visual", "3dmm": "visual", "mfcc": "audio", "prosody": "audio"}


def make(names, **options):
    torch.manual_seed(0)
    return MultiModalityTransformer(
        {n: DIMS[n] for n in names}, KINDS, hidden_dim=16, out_dim=8, num_heads=2, intra_depth=1, inter_depth=1,
        **options,
    ).eval()


def streams(batch=2, frames=12, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {name: torch.randn(batch, frames, dim, generator=generator) for name, dim in DIMS.items()}


@pytest.mark.parametrize(
    "names",
    [
        ("emotion", "3dmm", "mfcc", "prosody"),
        ("emotion", "3dmm"),
        ("mfcc", "prosody"),
        ("3dmm",),
        ("mfcc",),
        ("emotion", "mfcc"),
    ],
)
@pytest.mark.parametrize("feedforward", [True, False])
def test_any_subset_of_streams(names, feedforward):
    model = make(names, feedforward=feedforward)
    inputs = streams()
    out = model(inputs)
    assert out.shape == (2, 12, 8) and torch.isfinite(out).all()
    # Every configured stream influences the output; unconfigured streams are ignored.
    for name in DIMS:
        changed = dict(inputs, **{name: inputs[name] + 1})
        assert torch.allclose(model(changed), out) == (name not in names), name


def test_inter_class_stage_only_with_both_classes():
    assert len(make(("emotion", "mfcc")).inter) == 1
    assert len(make(("emotion", "3dmm")).inter) == 0


def test_missing_or_misshaped_stream_is_named():
    model = make(("emotion", "mfcc"))
    inputs = streams()
    with pytest.raises(ValueError, match="mfcc"):
        model({"emotion": inputs["emotion"]})
    with pytest.raises(ValueError, match="emotion.*24"):
        model({"emotion": inputs["emotion"][..., :24], "mfcc": inputs["mfcc"]})
    with pytest.raises(ValueError, match="at least one"):
        MultiModalityTransformer({}, {}, hidden_dim=8, out_dim=4)
    with pytest.raises(ValueError, match="'gaze' has kind 'other'"):
        MultiModalityTransformer({"gaze": 2}, {"gaze": "other"}, hidden_dim=8, out_dim=4)


@pytest.mark.parametrize("frames,context", [(150, 50), (130, 50), (30, 50), (40, 0)])
def test_context_chunks_round_trip(frames, context):
    x = torch.arange(2 * frames * 3, dtype=torch.float32).reshape(2, frames, 3)
    chunks = ContextChunks(frames, context)
    split = chunks.split(x)
    assert split.shape[1] == min(frames, context or frames)
    torch.testing.assert_close(chunks.merge(split), x)


def test_chunked_attention_stays_inside_its_chunk():
    model = make(("emotion", "mfcc"))
    inputs = streams(batch=1, frames=20)
    chunks = ContextChunks(20, 10)

    def run(batch):
        return chunks.merge(model({n: chunks.split(v) for n, v in batch.items() if n in ("emotion", "mfcc")}))

    out = run(inputs)
    changed = dict(inputs, mfcc=inputs["mfcc"].clone())
    changed["mfcc"][:, 15] += 5.0
    new = run(changed)
    assert torch.equal(new[:, :10], out[:, :10])
    assert not torch.allclose(new[:, 10:], out[:, 10:])


def test_reference_audio_fusion_is_one_cross_attention():
    # The reference fuses audio by one block: wav2vec2 (here the first audio stream) queries MFCC.
    model = make(("emotion", "mfcc", "prosody"), audio_depth=1, audio_self_attention=False)
    audio = model.intra["audio"]
    assert len(audio.blocks) == 1 and len(model.intra["visual"].blocks) == 1 + 1  # visual keeps self-attention
    mfcc, prosody = (model.project[name](streams()[name]) for name in ("mfcc", "prosody"))
    torch.testing.assert_close(audio([mfcc, prosody]), audio.blocks[0](mfcc, prosody))
    # A lone audio stream still gets its depth of self-attention blocks.
    assert len(make(("emotion", "mfcc"), audio_depth=1, audio_self_attention=False).intra["audio"].blocks) == 1
