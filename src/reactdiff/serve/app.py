"""The web application of ``reactdiff serve`` (FastAPI; uvicorn runs it).

- ``/live``: the browser's camera and microphone stream to ``/ws/live``; the listener face is drawn
  beside the camera image as it is generated, with the measured latency.
- ``/upload``: a speaker clip (+ optional audio) in, K reactions out as the side-by-side video with
  sound and the plots; ``POST /api/upload`` starts a job, ``GET /api/jobs/{id}`` reports progress.
- ``GET /api/health``: ``{"status": "ok", "method": ..., "live": bool, ...}``.

Everything the server writes goes under its working folder (uploads are held in memory while they
arrive, up to the size limit, then written into the job's folder). More live sessions than
``max_live`` get a "busy" message instead of everyone lagging.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from pathlib import Path

# At module level: FastAPI reads the handlers' annotations (strings here) in this module's namespace.
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.formparsers import MultiPartParser

from reactdiff.errors import ReactDiffError

STATIC = Path(__file__).parent / "static"


def create_app(model, workdir: str | Path, *, max_live: int = 1, max_upload_mb: float = 50.0,
               max_clip_seconds: float = 60.0, max_samples: int = 10):
    """The application serving ``model`` (a :class:`reactdiff.pipeline.ReactionModel`)."""
    from reactdiff.serve.jobs import AUDIO_SUFFIXES, VIDEO_SUFFIXES, JobRunner
    from reactdiff.serve.live import LiveWorker, live_problem

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    max_bytes = int(max_upload_mb * 1024 * 1024)
    # Starlette spools file parts over 1 MiB to the system temp folder; keep them in memory (they
    # are capped by the size limit below) so nothing is written outside the working folder.
    MultiPartParser.spool_max_size = max_bytes + 1
    runner = JobRunner(model, workdir, max_clip_seconds)
    problem = live_problem(model)
    live_lock = threading.Lock()
    live_count = [0]

    app = FastAPI(title="reactdiff serve", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.get("/")
    def index():
        return RedirectResponse("/live")

    @app.get("/live")
    def live_page():
        return FileResponse(STATIC / "live.html")

    @app.get("/upload")
    def upload_page():
        return FileResponse(STATIC / "upload.html")

    @app.get("/api/health")
    def health():
        return {"status": "ok", "method": model.name, "online": model.online, "live": problem is None,
                "live_problem": problem, "window_frames": model.frame_multiple, "live_sessions": live_count[0],
                "max_live": max_live, "max_upload_mb": max_upload_mb, "max_clip_seconds": max_clip_seconds}

    @app.post("/api/upload")
    async def upload(request: Request):
        length = request.headers.get("content-length")
        if length is None:
            return error(411, "uploads need a Content-Length header")
        if int(length) > max_bytes + 64 * 1024:  # form overhead on top of the files
            return error(413, f"upload is {int(length) / 2**20:.1f} MiB; the limit is {max_upload_mb:g} MiB")
        try:
            form = await request.form(max_files=2, max_fields=4)
        except Exception as exc:  # malformed multipart body
            return error(400, f"could not read the form: {exc}")
        video, audio = form.get("video"), form.get("audio")
        if video is None or isinstance(video, str) or not video.filename:
            return error(400, "no speaker clip: send the video file in the 'video' field")
        try:
            samples = int(form.get("samples") or 3)
        except ValueError:
            return error(400, f"samples: expected a whole number, got {form.get('samples')!r}")
        if not 1 <= samples <= max_samples:
            return error(400, f"samples: must be in 1..{max_samples}, got {samples}")
        checks = [(video, VIDEO_SUFFIXES, "video")]
        if audio is not None and not isinstance(audio, str) and audio.filename:
            checks.append((audio, AUDIO_SUFFIXES, "audio"))
        else:
            audio = None
        for part, suffixes, kind in checks:
            suffix = Path(part.filename).suffix.lower()
            if suffix not in suffixes:
                return error(415, f"{part.filename}: not a {kind} file this server takes ({', '.join(suffixes)})")
        job = runner.new_job(samples)
        paths = []
        for part, _, kind in checks:
            data = await part.read()
            if not data:
                return error(400, f"{part.filename}: the file is empty")
            # Only our own file names inside the job folder: the client's name is never a path.
            path = job.folder / f"speaker_{kind}{Path(part.filename).suffix.lower()}"
            path.write_bytes(data)
            paths.append(path)
        try:
            await asyncio.to_thread(_check_media, paths[0], paths[1] if len(paths) > 1 else None)
        except ReactDiffError as exc:
            job.state, job.message = "error", str(exc)
            return error(400, str(exc).replace(str(job.folder) + "/", ""))
        threading.Thread(target=runner.run, args=(job, paths[0], paths[1] if len(paths) > 1 else None), daemon=True).start()
        return job.as_json()

    @app.get("/api/jobs/{job_id}")
    def job_status(job_id: str):
        job = runner.jobs.get(job_id)
        return job.as_json() if job else error(404, f"no job {job_id}")

    @app.get("/api/jobs/{job_id}/files/{name:path}")
    def job_file(job_id: str, name: str):
        job = runner.jobs.get(job_id)
        if job is None or name not in job.files.values():
            return error(404, f"no file {name} in job {job_id}")
        return FileResponse(job.folder / name)

    @app.websocket("/ws/live")
    async def live(websocket: WebSocket):
        await websocket.accept()
        if problem is not None:
            await websocket.send_text(json.dumps({"type": "error", "message": problem}))
            await websocket.close(code=1011)
            return
        with live_lock:
            busy = live_count[0] >= max_live
            if not busy:
                live_count[0] += 1
        if busy:
            await websocket.send_text(json.dumps({
                "type": "busy",
                "message": f"busy: {max_live} live session(s) already running, the most this machine keeps up with; try again later"}))
            await websocket.close(code=1013)
            return
        worker = None
        # One thread per live session: MediaPipe's landmarker is created, used and closed on the
        # same thread (handing it between pool threads crashed inside its C code).
        thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-session")
        loop = asyncio.get_running_loop()
        try:
            worker = await loop.run_in_executor(thread, LiveWorker, model)
            await websocket.send_text(json.dumps({"type": "ready", "method": model.name, "window_frames": worker.session.window,
                                                  "fps": 25}))
            while True:
                message = await websocket.receive_bytes()
                try:
                    replies = await loop.run_in_executor(thread, worker.handle, message)
                except ReactDiffError as exc:
                    await websocket.send_text(json.dumps({"type": "error", "message": str(exc)}))
                    await websocket.close(code=1003)
                    return
                for reply in replies:
                    await websocket.send_text(json.dumps(reply))
        except (WebSocketDisconnect, RuntimeError):
            pass  # the page went away (closed tab, dropped network): free the slot
        except ReactDiffError as exc:
            await websocket.send_text(json.dumps({"type": "error", "message": str(exc)}))
            await websocket.close(code=1011)
        finally:
            if worker is not None:
                thread.submit(worker.close)  # on the session's thread, after its last frame; not awaited (we may be cancelled)
            thread.shutdown(wait=False)
            with live_lock:
                live_count[0] -= 1

    return app


def _check_media(video: Path, audio: Path | None) -> None:
    """Decode the headers: a file that is not the media it claims to be fails here, at upload time."""
    from reactdiff.features.extract import clip_frames

    clip_frames(video)
    if audio is not None:
        from reactdiff.features.audio import load_audio

        load_audio(audio, check_silence=True)
