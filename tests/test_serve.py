"""``reactdiff serve``'s application (FastAPI TestClient, in process): health, bad uploads, dropped
live connections and the busy answer, with /api/health still answering after each."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from online_checkpoint import tiny_online_checkpoint

pytest.importorskip("fastapi", reason="the 'serve' extra is not installed: pip install -e '.[serve]'")
pytest.importorskip("httpx", reason="the 'serve' extra is not installed: pip install -e '.[serve]'")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from reactdiff.pipeline import ReactionModel

    return ReactionModel.from_checkpoint(tiny_online_checkpoint(tmp_path_factory))


@pytest.fixture()
def client(model, tmp_path):
    from fastapi.testclient import TestClient

    from reactdiff.serve.app import create_app

    app = create_app(model, tmp_path / "work", max_live=1, max_upload_mb=0.5)
    with TestClient(app) as test_client:
        test_client.workdir = tmp_path / "work"
        yield test_client


def healthy(client) -> dict:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["method"] == "reactdiff"
    return body


def test_health_names_the_method_and_whether_it_runs_live(client):
    body = healthy(client)
    assert body["online"] is True and body["window_frames"] == 10
    assert client.get("/live").status_code == 200 and "getUserMedia" in client.get("/static/live.js").text
    assert client.get("/upload").status_code == 200


def test_bad_uploads_get_a_clear_message_and_the_server_keeps_serving(client, tmp_path):
    cases = [
        ({"video": ("notes.txt", b"hello", "text/plain")}, 415, "not a video file"),
        ({"video": ("clip.mp4", b"\x00" * 1000, "video/mp4")}, 400, "not a readable video"),
        ({"video": ("clip.mp4", b"\x00" * 700_000, "video/mp4")}, 413, "limit is 0.5 MiB"),
        ({"audio": ("a.wav", b"RIFF", "audio/wav")}, 400, "no speaker clip"),
    ]
    for files, status, message in cases:
        response = client.post("/api/upload", files=files)
        assert response.status_code == status, response.text
        assert message in response.json()["error"]
        healthy(client)
    response = client.post("/api/upload", files={"video": ("clip.mp4", b"\x00" * 10, "video/mp4")}, data={"samples": "99"})
    assert response.status_code == 400 and "samples" in response.json()["error"]
    # Nothing outside the working folder: every job lives in workdir/jobs/<id>/ with our own file names.
    written = [p for p in client.workdir.rglob("*") if p.is_file()]
    assert written and all(p.name.startswith("speaker_video") for p in written)
    assert client.get("/api/jobs/nope").status_code == 404


def _video_message(ms: float) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(buffer, format="JPEG")
    return struct.pack("<cd", b"V", ms) + buffer.getvalue()


def _sessions_back_to_zero(client) -> None:
    deadline = time.time() + 20
    while healthy(client)["live_sessions"] and time.time() < deadline:
        time.sleep(0.1)
    assert healthy(client)["live_sessions"] == 0


def test_busy_and_dropped_live_connections(client, video_extras):
    with client.websocket_connect("/ws/live") as first:
        assert first.receive_json()["type"] == "ready"
        # Window 0 depends on no speaker frame: the first message already brings listener frames.
        first.send_bytes(_video_message(0.0))
        reply = first.receive_json()
        assert reply["type"] == "frames" and reply["start"] == 0 and reply["faces"][0].startswith("data:image/jpeg")
        with client.websocket_connect("/ws/live") as second:
            busy = second.receive_json()
            assert busy["type"] == "busy" and "try again later" in busy["message"]
        healthy(client)
        first.send_bytes(_video_message(40.0))
        # The page goes away mid-stream (tab closed): leaving the block drops the connection.
    _sessions_back_to_zero(client)
    with client.websocket_connect("/ws/live") as again:  # the slot is free again
        assert again.receive_json()["type"] == "ready"
        again.send_bytes(b"Xnonsense")
        error = again.receive_json()
        assert error["type"] == "error" and "unknown message kind" in error["message"]
    _sessions_back_to_zero(client)
