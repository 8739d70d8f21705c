"""Helpers of the browser tests: Debian's Chromium driven by Playwright, scripts from npm.

Playwright's own browser download cannot work here, so Chromium is Debian's
(/usr/bin/chromium). Player libraries come from the npm registry (``npm
pack``, cached under ``~/.cache/kvarchive-tests/``): the test machine reaches
package registries and nothing else, so pages are served from 127.0.0.1 and
every other request a page makes is either answered from those npm files
(a CDN address, whose file is the npm package's own) or refused. A test that
cannot have Chromium, Playwright or npm is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
CACHE = Path(os.environ.get("KVARCHIVE_TEST_CACHE", Path.home() / ".cache" / "kvarchive-tests"))
SCREENSHOTS = Path(os.environ.get("KVARCHIVE_SCREENSHOTS", tempfile.gettempdir()))
# https://cdn.jsdelivr.net/npm/<package>@<version>/<path>: a file of an npm package, as published.
_JSDELIVR_NPM = re.compile(r"https://cdn\.jsdelivr\.net/npm/((?:@[^/]+/)?[^@/]+)@([^/]+)/(.+)")


def npm_file(package: str, version: str, member: str) -> Path:
    """``member`` (a path in the package) of npm package ``package@version``, packed once."""
    target = CACHE / f"{package}-{version}" / Path(member).name
    if target.exists():
        return target
    if shutil.which("npm") is None:
        pytest.skip(f"npm is not installed: {package} cannot be fetched")
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            ["npm", "pack", f"{package}@{version}", "--pack-destination", scratch, "--silent"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"npm pack {package}@{version} failed: {done.stderr.strip()[-300:]}")
        (archive,) = Path(scratch).glob("*.tgz")
        with tarfile.open(archive) as packed:
            script = packed.extractfile(f"package/{member}")
            assert script is not None, f"{member} missing from {archive.name}"
            data = script.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def cdn_file(url: str) -> Path:
    """The npm file a jsDelivr ``/npm/`` URL serves."""
    match = _JSDELIVR_NPM.fullmatch(url)
    assert match, f"not a jsDelivr npm URL: {url}"
    return npm_file(*match.groups())


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Serve the files of ``root`` on 127.0.0.1 (an origin of its own); yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright (skips where either is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def offline(page: Any, files: Mapping[str, Path]) -> list[str]:
    """Answer ``page``'s requests for the URLs of ``files`` with those files, and refuse every
    other request that leaves 127.0.0.1; return the refused URLs, as they come."""
    refused: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url in files:
            request_route.fulfill(
                path=str(files[url]), headers={"Access-Control-Allow-Origin": "*"}
            )
        elif url.startswith(("http://127.0.0.1:", "blob:", "data:")):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    page.route("**/*", route)
    return refused
