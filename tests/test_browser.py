"""A real browser on the pages of ``reactdiff serve``: Debian's headless chromium (driven by its
chromedriver through Selenium) with a fake camera and microphone fed from files; the server is a
real uvicorn on 127.0.0.1. The live page must show listener frames that change over time and a
latency figure; the upload page must return a video that plays, with frames and sound.

Set REACTDIFF_DOC_SCREENSHOTS=1 to also write the screenshots into docs/images/."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from online_checkpoint import tiny_online_checkpoint

CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/setup.sh installs them as root "
                "where apt reaches them)", allow_module_level=True)
pytest.importorskip("selenium", reason="the 'serve' extra is not installed: pip install -e '.[serve]'")
pytest.importorskip("uvicorn", reason="the 'serve' extra is not installed: pip install -e '.[serve]'")

#: shared/ beside the repository (CI lays a copy there too), as in tests/conftest.py.
MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
if not MEDIA.is_dir():
    pytest.skip(f"real media not found at {MEDIA}", allow_module_level=True)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "images"


def fake_camera_file(source: Path, out: Path, seconds: float = 6.0) -> Path:
    """A .y4m (what chromium's fake camera reads) of the clip's first seconds, 320x180 at 25 fps."""
    import av

    from reactdiff.features.video import iter_frames

    with av.open(str(out), "w", format="yuv4mpegpipe") as container:
        stream = container.add_stream("wrapped_avframe", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for index, rgb in enumerate(iter_frames(source, 25, max_side=320)):
            if index >= seconds * 25:
                break
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(320, 180, "yuv420p")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory, video_extras):
    import uvicorn

    from reactdiff.pipeline import ReactionModel
    from reactdiff.serve.app import create_app

    model = ReactionModel.from_checkpoint(tiny_online_checkpoint(tmp_path_factory))
    work = tmp_path_factory.mktemp("serve-work")
    with socket.socket() as probe:  # a free port on the loopback interface only
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(model, work, max_live=1, max_clip_seconds=10)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=4 * 2**20)
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not uvicorn_server.started and time.time() < deadline:
        time.sleep(0.1)
    assert uvicorn_server.started
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    media = tmp_path_factory.mktemp("fake-media")
    camera = fake_camera_file(MEDIA / "face_expressive.mp4", media / "camera.y4m")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1100,800",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-video-capture={camera}",
                 f"--use-file-for-fake-audio-capture={MEDIA / 'conversation_16k.wav'}",
                 "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def screenshot(driver, name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get("REACTDIFF_DOC_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / name)


def wait_for(condition, seconds: float, what: str):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


def test_live_page_shows_a_listener_reacting_to_the_camera(server, browser, tmp_path):
    browser.get(server + "/live")
    browser.find_element("id", "start").click()
    wait_for(lambda: int(browser.find_element("id", "received").text) >= 30, 120, "30 listener frames")
    canvas = "return document.getElementById('listener').toDataURL('image/png');"
    seen = {browser.execute_script(canvas)}
    wait_for(lambda: seen.add(browser.execute_script(canvas)) or len(seen) >= 3, 60, "the listener face to change")
    latency = float(wait_for(lambda: browser.find_element("id", "latency").text.replace("–", ""), 10, "a latency figure"))
    assert 0 < latency < 60_000
    assert "error" not in browser.find_element("id", "status").get_attribute("class")
    assert browser.execute_script("return document.getElementById('camera').videoWidth") > 0  # the speaker's own image
    screenshot(browser, "serve_live.png", tmp_path)
    browser.find_element("id", "stop").click()
    wait_for(lambda: "live_sessions\":0" in browser.execute_script(
        "const r = new XMLHttpRequest(); r.open('GET', '/api/health', false); r.send(); return r.responseText.replace(/ /g, '');"),
        20, "the live slot to be freed")


def test_upload_page_returns_a_video_that_plays_with_sound(server, browser, tmp_path):
    browser.get(server + "/upload")
    browser.find_element("id", "video").send_keys(str(MEDIA / "face_short.mp4"))
    browser.find_element("id", "audio").send_keys(str(MEDIA / "conversation_16k.wav"))
    samples = browser.find_element("id", "samples")
    samples.clear()
    samples.send_keys("2")
    browser.find_element("id", "submit").click()
    progress = wait_for(lambda: browser.find_element("id", "message").text.strip(), 30, "a progress message")
    assert "error" not in browser.find_element("id", "message").get_attribute("class"), progress
    wait_for(lambda: browser.find_element("id", "message").text.startswith(("Done", "video")) or
             "error" in browser.find_element("id", "message").get_attribute("class"), 300, "the job to finish")
    assert browser.find_element("id", "message").text.startswith("Done"), browser.find_element("id", "message").text
    playing = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const video = document.getElementById('output');
        video.muted = false;
        const report = () => done({time: video.currentTime, width: video.videoWidth, duration: video.duration,
            frames: video.getVideoPlaybackQuality().totalVideoFrames, audioBytes: video.webkitAudioDecodedByteCount,
            error: video.error && video.error.message});
        video.play().then(() => setTimeout(report, 1500)).catch((e) => done({error: String(e)}));
    """)
    assert not playing.get("error"), playing
    assert playing["width"] > 0 and playing["frames"] > 5 and playing["time"] > 0.3, playing
    assert playing["audioBytes"] > 0, playing  # the speaker's sound is muxed in and decodes
    assert abs(playing["duration"] - 2.4) < 0.3, playing
    figures = browser.execute_script("return [...document.querySelectorAll('#figures img')].map(i => i.naturalWidth)")
    assert len(figures) == 4 and all(width > 0 for width in figures)
    screenshot(browser, "serve_upload.png", tmp_path)
