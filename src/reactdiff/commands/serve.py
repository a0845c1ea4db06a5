"""``reactdiff serve --checkpoint CKPT``: the live page and the upload page in a browser."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="web pages: a listener reacting live to your camera and microphone, and reactions to an uploaded clip",
        description="Start a web server (FastAPI + uvicorn) with a live page (/live), an upload page (/upload) and "
        "GET /api/health. Binds 127.0.0.1 unless --host says otherwise. Needs the 'serve' extra: pip install -e '.[serve]'.",
    )
    parser.add_argument("--checkpoint", type=Path, required=True, help="any method's final checkpoint (live needs an online one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="folder for uploads and results (default: a new folder under the system temp folder)")
    parser.add_argument("--max-live", type=int, default=1, help="live sessions served at once; more get a 'busy' answer")
    parser.add_argument("--max-upload-mb", type=float, default=50.0, help="largest upload (video + audio), MiB")
    parser.add_argument("--max-clip-seconds", type=float, default=60.0, help="longest uploaded clip")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: a live window is a handful of rows, where a second thread "
                        "costs more in synchronisation than it computes, measured by benchmarks/bench_stream.py --threads)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import tempfile

    from reactdiff.errors import ConfigError
    from reactdiff.pipeline import ReactionModel

    try:
        import uvicorn

        from reactdiff.serve.app import create_app
    except ImportError as exc:
        raise ConfigError(f"reactdiff serve needs the 'serve' extra ({exc}); run: pip install -e '.[serve]'") from exc
    if args.max_live < 1 or args.max_upload_mb <= 0 or args.max_clip_seconds <= 0:
        raise ConfigError("--max-live, --max-upload-mb and --max-clip-seconds must be positive")
    if args.threads < 1:
        raise ConfigError(f"--threads: must be at least 1, got {args.threads}")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port: must be in 1..65535, got {args.port}")
    import torch

    torch.set_num_threads(args.threads)
    model = ReactionModel.from_checkpoint(args.checkpoint, device=args.device)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reactdiff-serve-"))
    app = create_app(model, workdir, max_live=args.max_live, max_upload_mb=args.max_upload_mb,
                     max_clip_seconds=args.max_clip_seconds)
    print(f"reactdiff serve: {model.name} checkpoint {model.source}; working folder {workdir}")
    print(f"live page: http://{args.host}:{args.port}/live   upload page: http://{args.host}:{args.port}/upload")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
