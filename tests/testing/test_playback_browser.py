"""The emulator's HLS and DASH sessions play in a real browser: hls.js and dash.js in Chromium.

Debian's chromium (/usr/bin/chromium) is driven by Playwright; hls.js and
dash.js come from the npm registry (``npm pack``, cached under
``~/.cache/kvarchive-tests/``) and are served to the page from 127.0.0.1, a
different origin from the emulator's, so CORS is exercised as a notebook
would. Each test is skipped, with the reason, where chromium, playwright or
npm cannot be had.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from browser import SCREENSHOTS, cdn_file, chromium, static_server

from kvarchive import ArchivedMediaClient
from kvarchive._players import DASH_JS, HLS_JS
from kvarchive.testing import Emulator

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>kvarchive playback</title>
<script src="hls.min.js"></script><script src="dash.all.min.js"></script></head>
<body style="margin:0;background:#222">
<video id="video" muted autoplay playsinline width="640" height="480"></video>
<script>
const errors = [];
window.playbackErrors = errors;
const video = document.getElementById("video");
video.addEventListener("error", () => errors.push("video: " + (video.error && video.error.message)));
const params = new URLSearchParams(location.search);
const src = params.get("src");
if (params.get("kind") === "dash") {
  const player = dashjs.MediaPlayer().create();
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => errors.push("dash.js: " + JSON.stringify(e.error)));
  player.initialize(video, src, true);
} else {
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (event, data) => {
    if (data.fatal) errors.push("hls.js: " + data.type + " " + data.details);
  });
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch((e) => errors.push("play: " + e));
}
</script></body></html>
"""


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    """A local page (on its own origin) that plays ``?src=URL&kind=hls|dash``."""
    with tempfile.TemporaryDirectory() as root:
        for script in (HLS_JS, DASH_JS):
            shutil.copy(cdn_file(script), root)
        Path(root, "index.html").write_text(PAGE)
        with static_server(Path(root)) as base:
            yield f"{base}/index.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def sessions() -> Iterator[dict[str, str]]:
    """ON_DEMAND session URLs over 20 s of the real sample: HLS fMP4, HLS TS and DASH."""
    with Emulator() as emu:
        stream = emu.add_sample_stream("demo", repeat=2)
        start = stream.fragments[0].server_timestamp
        end = stream.fragments[-1].server_timestamp
        common: dict[str, Any] = {
            "stream_name": "demo",
            "playback_mode": "ON_DEMAND",
            "start": start,
            "end": end,
            "expires": 3600,
        }
        # Module-scoped: the per-test planted credentials are not there yet.
        session = boto3.Session(
            aws_access_key_id="AKIAEMULATOR",
            aws_secret_access_key="emulator",
            region_name=emu.region,
        )
        with ArchivedMediaClient(session=session, endpoint_url=emu.endpoint_url) as kv:
            yield {
                "hls-fmp4": kv.get_hls_streaming_session_url(**common),
                "hls-ts": kv.get_hls_streaming_session_url(**common, container_format="MPEG_TS"),
                "dash": kv.get_dash_streaming_session_url(**common),
            }


@pytest.mark.parametrize("kind", ["hls-fmp4", "hls-ts", "dash"])
def test_player_plays_the_session_in_chromium(
    browser: Any, page_url: str, sessions: dict[str, str], kind: str
) -> None:
    """hls.js / dash.js in headless Chromium play past one second with no media error."""
    page = browser.new_page(viewport={"width": 640, "height": 480})
    try:
        player = "dash" if kind == "dash" else "hls"
        page.goto(f"{page_url}?kind={player}&src={quote(sessions[kind], safe='')}")
        page.wait_for_function(
            "() => document.getElementById('video').currentTime > 1"
            " || window.playbackErrors.length > 0",
            timeout=30_000,
        )
        state = page.evaluate(
            "() => ({time: document.getElementById('video').currentTime,"
            " errors: window.playbackErrors,"
            " width: document.getElementById('video').videoWidth,"
            " mediaError: document.getElementById('video').error})"
        )
        page.screenshot(path=str(SCREENSHOTS / f"kvarchive-playback-{kind}.png"))
    finally:
        page.close()
    assert state["errors"] == []
    assert state["mediaError"] is None
    assert state["time"] > 1
    assert state["width"] == 320
