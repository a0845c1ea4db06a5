"""``reactdiff extract VIDEO... --out DIR``: feature streams of your own clips into a FeatureStore."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from reactdiff.config import add_config_args
    from reactdiff.features.extract import DEFAULT_STREAMS, VIDEO_STREAMS, ExtractConfig

    parser = subparsers.add_parser(
        "extract",
        help="extract per-frame feature streams (face, emotion, 3DMM approximations, audio) from your own clips",
        description="Decode each clip, resample it to --fps (25 for REACT 2024 models, the default; 30 for "
        "REACT 2025/2026 ones; 0 for the video's own rate), track the face (MediaPipe) and compute the "
        "requested streams into a feature store at DIR/<stream>/<clip>.npy. Clips already extracted "
        "are skipped, so a re-run resumes. Video streams need the extras: bash scripts/install_extras.sh",
    )
    parser.add_argument("videos", type=Path, nargs="+", metavar="VIDEO", help="video file(s) or 25 fps frame folder(s)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="feature store folder")
    parser.add_argument("--audio", type=Path, default=None, metavar="AUDIO",
                        help="audio file for the audio streams (default: the video's own track; one VIDEO only)")
    parser.add_argument("--key", default=None, help="store key of the clip (default: the file name without suffix; one VIDEO only)")
    parser.add_argument(
        "--streams", nargs="+", default=None, metavar="NAME",
        help=f"streams to compute, space- or comma-separated (default: {' '.join(DEFAULT_STREAMS)}; "
        f"video: {' '.join(VIDEO_STREAMS)}; audio: mfcc mfcc78 voice prosody)",
    )
    parser.add_argument("--shard", default="", metavar="I/N",
                        help="only the VIDEOs whose position in the list is I mod N (run N commands into one --out)")
    parser.add_argument("--workers", type=int, default=1, help="clips extracted at once, one process each")
    add_config_args(parser, ExtractConfig, skip=("streams",))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from reactdiff.config import resolve_config, save_config
    from reactdiff.store import FeatureStore
    from reactdiff.errors import ConfigError
    from reactdiff.parallel import check_workers, run_jobs, shard_jobs
    from reactdiff.features.extract import ExtractConfig, clip_fps, clip_frames, extract_to_store, split_streams

    overrides = {}
    if args.streams is not None:
        overrides["streams"] = [name for item in args.streams for name in item.split(",") if name]
    config = resolve_config(ExtractConfig, args, **overrides)
    split_streams(config.streams)  # unknown names fail before any decoding
    if len(args.videos) > 1 and (args.audio is not None or args.key is not None):
        raise ConfigError("--audio and --key apply to one VIDEO; run one command per clip to use them")
    keys = [args.key or video.stem for video in args.videos]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ConfigError(f"several videos map to the same store key(s) {', '.join(duplicates)}; rename them or extract one at a time with --key")

    jobs = shard_jobs(list(zip(args.videos, keys)), args.shard)
    check_workers(args.workers)
    store = FeatureStore(args.out)
    for key in keys:
        store.check_key(key)  # before anything is written
    save_config(config, args.out / "extract_config.json")

    def report(result: tuple[Path, str, bool]) -> None:
        video, key, computed = result
        print(f"{'extracted' if computed else 'up to date'}: {video} -> {args.out} (key '{key}', streams: {', '.join(config.streams)})")

    if args.workers == 1:
        for video, key in jobs:
            with tqdm(total=clip_frames(video, clip_fps(video, config.fps)), desc=key, unit="frame", leave=False) as bar:
                key, computed = extract_to_store(video, args.out, key, args.audio, config, progress=bar.update)
            report((video, key, computed))
    else:
        run_jobs(extract_job, [(video, args.out, key, args.audio, config) for video, key in jobs], args.workers, report)
    return 0


def extract_job(video: Path, out: Path, key: str, audio: Path | None, config) -> tuple[Path, str, bool]:
    """One clip in a worker process (no per-frame progress bar across processes)."""
    from reactdiff.features.extract import extract_to_store

    key, computed = extract_to_store(video, out, key, audio, config)
    return video, key, computed
