"""HLSPlayer and DASHPlayer play the emulator's sessions in headless Chromium.

Their HTML is put in a page served from 127.0.0.1 (another origin than the
emulator's, as a notebook is), with hls.js and dash.js from their npm
packages through ``script_url=``; no request leaves the machine. Skipped,
with the reason, where Chromium, Playwright or npm cannot be had.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import SCREENSHOTS, cdn_file, chromium, npm_file, offline, static_server

from kvarchive import DASHPlayer, HLSPlayer
from kvarchive._players import DASH_JS, HLS_JS
from kvarchive.testing import Emulator

# What nbconvert's HTML pages and the classic Notebook load: AMD, which hls.js and dash.js
# then register with instead of defining globals.
REQUIRE_JS = ("requirejs", "2.1.10", "require.js")
VIDEOS = "Array.from(document.querySelectorAll('video'))"
MESSAGES = "Array.from(document.querySelectorAll('.kvarchive-player p'))"


@pytest.fixture(scope="module")
def sessions() -> Iterator[dict[str, str]]:
    """ON_DEMAND URLs over 20 s of the real sample: HLS fMP4 and TS, DASH, and a tampered one."""
    with Emulator() as emu:
        stream = emu.add_sample_stream("demo", repeat=2)
        common: dict[str, Any] = {
            "stream_name": "demo",
            "playback_mode": "ON_DEMAND",
            "start": stream.fragments[0].server_timestamp,
            "end": stream.fragments[-1].server_timestamp,
            "expires": 3600,
        }
        with emu.client() as kv:
            hls = kv.get_hls_streaming_session_url(**common)
            yield {
                "hls": hls,
                "hls-ts": kv.get_hls_streaming_session_url(**common, container_format="MPEG_TS"),
                "dash": kv.get_dash_streaming_session_url(**common),
                "tampered-hls": hls[:-4] + "abcd",
                "tampered-dash": kv.get_dash_streaming_session_url(**common)[:-4] + "abcd",
                "token": emu.session_token,
            }


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Path, str]]:
    """A folder served on 127.0.0.1 holding hls.js, dash.js and require.js from npm."""
    with tempfile.TemporaryDirectory() as root:
        for script in (cdn_file(HLS_JS), cdn_file(DASH_JS), npm_file(*REQUIRE_JS)):
            shutil.copy(script, root)
        with static_server(Path(root)) as base:
            yield Path(root), base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright."""
    with chromium() as launched:
        yield launched


def open_page(browser: Any, site: tuple[Path, str], name: str, body: str, amd: bool) -> Any:
    """Serve ``body`` as page ``name`` (with require.js in its head when ``amd``) and open it."""
    root, base = site
    head = '<script src="require.js"></script>' if amd else ""
    (root / name).write_text(
        f'<!doctype html><html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    )
    page = browser.new_page(viewport={"width": 700, "height": 1400})
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    page.fetched = []
    page.on("request", lambda request: page.fetched.append(request.url.rsplit("/", 1)[-1]))
    offline(page, {})
    page.goto(f"{base}/{name}")
    return page


@pytest.mark.parametrize("amd", [False, True], ids=["plain page", "page with RequireJS"])
def test_players_on_one_page_each_play_past_one_second(
    browser: Any, site: tuple[Path, str], sessions: dict[str, str], amd: bool
) -> None:
    """Four players on one page (HLS fMP4, the same player again, HLS TS, DASH) each show a
    first frame, then play past one second with no error; each library is fetched once."""
    hls = HLSPlayer(sessions["hls"], width=320, script_url="hls.min.js")
    players = [
        hls,
        hls,
        HLSPlayer(sessions["hls-ts"], width=320, script_url="hls.min.js"),
        DASHPlayer(sessions["dash"], width=320, script_url="dash.all.min.js"),
    ]
    body = "".join(player._repr_html_() for player in players)
    name = "amd.html" if amd else "plain.html"
    page = open_page(browser, site, name, body, amd)
    try:
        page.wait_for_function(
            f"() => {VIDEOS}.every(v => v.readyState >= 2) || {MESSAGES}.some(p => !p.hidden)",
            timeout=30_000,
        )
        page.evaluate(f"() => {VIDEOS}.forEach(v => {{ v.muted = true; v.play(); }})")
        page.wait_for_function(
            f"() => {VIDEOS}.every(v => v.currentTime > 1) || {MESSAGES}.some(p => !p.hidden)",
            timeout=30_000,
        )
        state = page.evaluate(
            f"""() => ({{
                times: {VIDEOS}.map(v => v.currentTime),
                errors: {VIDEOS}.map(v => v.error && v.error.message),
                sizes: {VIDEOS}.map(v => v.videoWidth + "x" + v.videoHeight),
                messages: {MESSAGES}.map(p => p.textContent),
                text: document.body.innerText,
                hlsGlobal: typeof window.Hls,
            }})"""
        )
        page.screenshot(path=str(SCREENSHOTS / f"kvarchive-players-{name}.png"), full_page=True)
    finally:
        page.close()
    assert page.script_errors == []
    assert state["messages"] == ["", "", "", ""]
    assert state["errors"] == [None] * 4
    assert all(time > 1 for time in state["times"]), state["times"]
    assert state["sizes"] == ["320x240"] * 4
    assert page.fetched.count("hls.min.js") == 1 and page.fetched.count("dash.all.min.js") == 1
    assert sessions["token"] not in state["text"]
    # With RequireJS, hls.js is an AMD module, not a global: the players asked RequireJS for it.
    assert state["hlsGlobal"] == ("undefined" if amd else "function")


def test_players_say_why_they_cannot_play(
    browser: Any, site: tuple[Path, str], sessions: dict[str, str]
) -> None:
    """A refused token, and a script that cannot be loaded, each show a readable message in
    the page, without the session token."""
    players = [
        HLSPlayer(sessions["tampered-hls"], script_url="hls.min.js"),
        DASHPlayer(sessions["tampered-dash"], script_url="dash.all.min.js"),
        HLSPlayer(sessions["hls"], script_url="missing/hls.min.js"),
    ]
    body = "".join(player._repr_html_() for player in players)
    page = open_page(browser, site, "errors.html", body, amd=False)
    try:
        page.wait_for_function(f"() => {MESSAGES}.every(p => !p.hidden)", timeout=30_000)
        messages = page.evaluate(f"() => {MESSAGES}.map(p => p.textContent)")
        page.screenshot(path=str(SCREENSHOTS / "kvarchive-players-errors.png"), full_page=True)
    finally:
        page.close()
    hls, dash, missing = messages
    assert hls.startswith("HLSPlayer: cannot play this stream (networkError: manifestLoadError")
    assert "HTTP 403: the session has expired or was replaced" in hls
    assert dash.startswith("DASHPlayer: cannot play this stream (")
    assert dash.endswith("HTTP 403: the session has expired or was replaced; ask for a new URL)")
    assert missing == (
        "HLSPlayer: could not load missing/hls.min.js (offline? pass script_url= to serve it)"
    )
    assert sessions["token"] not in "".join(messages)
