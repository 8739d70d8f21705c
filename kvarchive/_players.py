"""Notebook players for streaming-session URLs: ``HLSPlayer`` (hls.js) and ``DASHPlayer`` (dash.js).

Each renders a ``<video>`` element and a script that loads the player library
(from its CDN, or ``script_url=`` for offline notebooks) and plays the URL:
the emulator's or the service's alike, both of which answer with CORS headers.
The library is loaded once per page whatever the number of players, through
RequireJS where the page has it (the classic Notebook and nbconvert's HTML
pages do, and the libraries then register with it instead of as globals).
Each render has its own element id, so several players, or one shown twice,
never clash. A failure (the library cannot load, the URL answers 403, the
media cannot be decoded) is written under the video, session token masked.

The rendered HTML must carry the URL, token included, for the browser to play
it: it is saved with the notebook's outputs and plays until the session
expires (``expires=``, 300 s by default). The reprs mask the token, and a
player refuses to be pickled rather than carry it further.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar, NoReturn, Optional

from ._errors import ValidationError
from ._redact import mask_session_token
from ._validate import check_int

__all__ = ["DASH_JS", "HLS_JS", "DASHPlayer", "HLSPlayer"]

HLS_JS = "https://cdn.jsdelivr.net/npm/hls.js@1.7.4/dist/hls.min.js"
"""hls.js from the npm package, on the jsDelivr CDN: the version the tests play with."""
DASH_JS = "https://cdn.jsdelivr.net/npm/dashjs@5.2.1/dist/modern/umd/dash.all.min.js"
"""dash.js from the npm package, on the jsDelivr CDN: the version the tests play with."""

# Runs once per render with the player's options; the only page-wide name is the
# cache of loaded libraries. Messages never show a session token.
_SCRIPT = """\
(function (options) {
  var root = document.getElementById(options.id);
  var video = root.querySelector("video");
  var note = root.querySelector("p");
  function fail(text) {
    note.textContent = options.name + ": " + text.replace(/(SessionToken=)[^&\\s'"]+/gi, "$1***");
    note.hidden = false;
  }
  function load(script, global) {
    var loads = (window.kvarchivePlayerScripts = window.kvarchivePlayerScripts || {});
    if (!loads[script]) {
      loads[script] = new Promise(function (resolve, reject) {
        if (window[global]) return resolve(window[global]);
        if (typeof window.define === "function" && window.define.amd && window.require) {
          return window.require([script], resolve, reject);
        }
        var tag = document.createElement("script");
        tag.src = script;
        tag.onload = function () {
          window[global] ? resolve(window[global]) : reject(new Error(global + " not defined"));
        };
        tag.onerror = reject;
        document.head.appendChild(tag);
      });
    }
    return loads[script];
  }
  function status(code) {
    if (!code) return "";
    var text = ", HTTP " + code;
    if (code === 403) text += ": the session has expired or was replaced; ask for a new URL";
    return text;
  }
  video.addEventListener("error", function () {
    fail("the browser cannot play this media (" + (video.error && video.error.message) + ")");
  });
  load(options.script, options.global).then(function (library) {
    if (options.kind === "dash") {
      var player = library.MediaPlayer().create();
      player.on(library.MediaPlayer.events.ERROR, function (event) {
        var error = event.error || {};
        var code = error.data && error.data.response && error.data.response.status;
        fail("cannot play this stream (" + (error.message || error.code) + status(code) + ")");
      });
      player.initialize(video, options.url, false);
    } else if (library.isSupported()) {
      var hls = new library();
      hls.on(library.Events.ERROR, function (event, data) {
        if (!data.fatal) return;
        var code = data.response && data.response.code;
        fail("cannot play this stream (" + data.type + ": " + data.details + status(code) + ")");
        hls.destroy();
      });
      hls.loadSource(options.url);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = options.url;  // Safari on iOS before 17.1 plays HLS natively
    } else {
      fail("this browser can play neither HLS nor Media Source Extensions");
    }
  }, function () {
    fail("could not load " + options.script + " (offline? pass script_url= to serve it)");
  });
})(%s);
"""


class _Player:
    """What both players share: the URL, the element and the script that plays it."""

    _kind: ClassVar[str]
    _global: ClassVar[str]
    _default_script: ClassVar[str]

    def __init__(self, url: str, *, width: int = 640, script_url: Optional[str] = None) -> None:
        name = type(self).__name__
        if not isinstance(url, str) or not url:
            raise ValidationError(f"{name} needs the streaming-session URL as a string")
        if script_url is not None and (not isinstance(script_url, str) or not script_url):
            raise ValidationError("script_url must be a URL (a string) or None")
        self.url = url
        self.width = check_int(width, "width", 1)
        self.script_url = script_url

    def __repr__(self) -> str:
        extra = "" if self.script_url is None else f", script_url={self.script_url!r}"
        return f"{type(self).__name__}({mask_session_token(self.url)!r}{extra})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} is not pickled: it holds a session token; "
            "pickle the arguments that made its URL instead"
        )

    def _repr_html_(self) -> str:
        element = f"kvarchive-player-{uuid.uuid4().hex}"
        options: dict[str, Any] = {
            "id": element,
            "name": type(self).__name__,
            "kind": self._kind,
            "global": self._global,
            "script": self.script_url or self._default_script,
            "url": self.url,
        }
        # JSON inside <script>: "<", ">" and "&" escaped, so no URL can close the element.
        data = json.dumps(options).replace("<", "\\u003c").replace(">", "\\u003e")
        data = data.replace("&", "\\u0026")
        return (
            f'<div id="{element}" class="kvarchive-player">'
            f'<video controls playsinline preload="auto" width="{self.width}" '
            'style="max-width:100%;background:#000"></video>'
            '<p role="alert" hidden style="color:#b00020;margin:0.3em 0"></p></div>'
            f"<script>{_SCRIPT % data}</script>"
        )


class HLSPlayer(_Player):
    """A notebook player for an HLS streaming-session URL, with hls.js.

    ``script_url`` serves hls.js from elsewhere than its CDN (an offline
    notebook: a copy next to it, ``"hls.min.js"``). The repr masks the
    session token; the HTML carries it, for the browser.
    """

    _kind = "hls"
    _global = "Hls"
    _default_script = HLS_JS


class DASHPlayer(_Player):
    """A notebook player for a DASH streaming-session URL, with dash.js.

    ``script_url`` serves dash.js from elsewhere than its CDN (an offline
    notebook: a copy next to it, ``"dash.all.min.js"``). The repr masks the
    session token; the HTML carries it, for the browser.
    """

    _kind = "dash"
    _global = "dashjs"
    _default_script = DASH_JS
