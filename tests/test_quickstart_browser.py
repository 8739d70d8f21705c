"""The quickstart notebook, executed and rendered by nbconvert, shows playing video and a timeline.

The notebook runs in a Jupyter kernel as a user runs it, cell by cell, all but
its last cell (which closes the emulator): its emulator keeps serving while
headless Chromium opens nbconvert's HTML of the outputs, then the last cell
runs. The page loads what nbconvert and the players ask for from their CDNs
(RequireJS, hls.js, dash.js): each is answered with the same file from its
npm package, and every other request that leaves 127.0.0.1 is refused (only
MathJax, which this page does not need, is asked for). Skipped, with the
reason, where Chromium, Playwright, npm or nbconvert cannot be had.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import SCREENSHOTS, cdn_file, chromium, npm_file, offline, static_server

from kvarchive._players import DASH_JS, HLS_JS

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "quickstart.ipynb"
# What nbconvert's HTMLExporter loads by default, and the npm package of the same version.
REQUIRE_JS_CDN = "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"
REQUIRE_JS = ("requirejs", "2.1.10", "require.js")
VIDEOS = "Array.from(document.querySelectorAll('.kvarchive-player video'))"
MESSAGES = "Array.from(document.querySelectorAll('.kvarchive-player p'))"
# Each video drawn on a canvas: the brightest channel and the number of distinct colours of a
# grid of samples (a black frame gives 0 and 1).
FRAME_SAMPLE = """() => Array.from(document.querySelectorAll('.kvarchive-player video')).map(v => {
  const canvas = document.createElement('canvas');
  canvas.width = v.videoWidth; canvas.height = v.videoHeight;
  const context = canvas.getContext('2d');
  context.drawImage(v, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let brightest = 0;
  for (let y = 8; y < canvas.height; y += 16) {
    for (let x = 8; x < canvas.width; x += 16) {
      const at = (y * canvas.width + x) * 4;
      brightest = Math.max(brightest, pixels[at], pixels[at + 1], pixels[at + 2]);
      colours.add(pixels[at] >> 5 << 6 | pixels[at + 1] >> 5 << 3 | pixels[at + 2] >> 5);
    }
  }
  return {readyState: v.readyState, brightest, colours: colours.size};
})"""


@pytest.fixture(scope="module")
def rendered() -> Iterator[str]:
    """nbconvert's HTML of the executed notebook, while the notebook's kernel still runs."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    exporters = pytest.importorskip("nbconvert.exporters", reason="nbconvert is not installed")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    closing = code[-1]
    assert "emu.close()" in notebook.cells[closing].source
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    with client.setup_kernel():
        for index in code[:-1]:
            client.execute_cell(notebook.cells[index], index)
        exporter = exporters.HTMLExporter()
        assert exporter.require_js_url == REQUIRE_JS_CDN
        page, _ = exporter.from_notebook_node(notebook)
        yield page
        client.execute_cell(notebook.cells[closing], closing)
    assert notebook.cells[closing].outputs == []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright."""
    with chromium() as launched:
        yield launched


def test_rendered_notebook_plays_its_video_and_shows_the_timeline(
    rendered: str, browser: Any
) -> None:
    """In nbconvert's page the players show a first frame that is not black, then play past one
    second with no error, and the timeline's drawing and table are there."""
    files = {
        HLS_JS: cdn_file(HLS_JS),
        DASH_JS: cdn_file(DASH_JS),
        REQUIRE_JS_CDN: npm_file(*REQUIRE_JS),
    }
    with tempfile.TemporaryDirectory() as root:
        Path(root, "quickstart.html").write_text(rendered)
        with static_server(Path(root)) as base:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            refused = offline(page, files)
            try:
                page.goto(f"{base}/quickstart.html")
                page.wait_for_function(
                    f"() => {VIDEOS}.length === 2 && {VIDEOS}.every(v => v.readyState >= 2)"
                    f" || {MESSAGES}.some(p => !p.hidden)",
                    timeout=30_000,
                )
                first_frames = page.evaluate(FRAME_SAMPLE)
                players = page.locator(".kvarchive-player").first
                players.scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOTS / "kvarchive-quickstart-first-frame.png"))
                page.evaluate(f"() => {VIDEOS}.forEach(v => {{ v.muted = true; v.play(); }})")
                page.wait_for_function(
                    f"() => {VIDEOS}.every(v => v.currentTime > 1) || {MESSAGES}.some(p => !p.hidden)",
                    timeout=30_000,
                )
                playing = page.evaluate(
                    f"() => ({{times: {VIDEOS}.map(v => v.currentTime),"
                    f" messages: {MESSAGES}.map(p => p.textContent)}})"
                )
                page.screenshot(path=str(SCREENSHOTS / "kvarchive-quickstart-playing.png"))
                timeline = page.locator("figure.kvarchive-timeline")
                timeline.scroll_into_view_if_needed()
                drawing = timeline.locator("svg").bounding_box()
                caption = timeline.locator("figcaption").inner_text()
                parts = timeline.locator("tbody tr").all_inner_texts()
                timeline.screenshot(path=str(SCREENSHOTS / "kvarchive-quickstart-timeline.png"))
                page.screenshot(
                    path=str(SCREENSHOTS / "kvarchive-quickstart-page.png"), full_page=True
                )
            finally:
                page.close()
    assert errors == []
    assert [
        (f["readyState"] >= 2, f["brightest"] > 128, f["colours"] > 4) for f in first_frames
    ] == [(True, True, True)] * 2
    assert playing["messages"] == ["", ""]
    assert all(time > 1 for time in playing["times"]), playing["times"]
    assert drawing is not None and drawing["width"] > 400 and drawing["height"] > 30
    assert "10 fragment(s) in 1 span(s)" in caption
    assert [row.split("\t")[0] for row in parts] == ["gap", "stored", "gap"]
    assert all("mathjax" in url.lower() for url in refused), refused
