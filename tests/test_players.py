"""HLSPlayer and DASHPlayer: what they render for a notebook, and what they never show.

That they play is checked in a real browser: test_players_browser.py.
"""

from __future__ import annotations

import json
import pickle
import re
from typing import Any

import pytest

from kvarchive import DASHPlayer, HLSPlayer, ValidationError
from kvarchive._players import DASH_JS, HLS_JS

TOKEN = "KVSEMUsecret0123456789abcdef"
HLS_URL = f"https://b-1234.kinesisvideo.eu-west-1.amazonaws.com/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken={TOKEN}"
DASH_URL = f"https://b-1234.kinesisvideo.eu-west-1.amazonaws.com/dash/v1/getDASHManifest.mpd?SessionToken={TOKEN}"


def options(html: str) -> dict[str, Any]:
    """The options a rendered player passes to its script."""
    match = re.search(r"\}\)\((\{.*?\})\);\s*</script>", html, re.DOTALL)
    assert match, html
    return json.loads(match.group(1))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("player", "url"), [(HLSPlayer, HLS_URL), (DASHPlayer, DASH_URL)])
def test_repr_masks_the_session_token(player: Any, url: str) -> None:
    """The repr shows the URL with its token masked, and a script_url when one is given."""
    assert repr(player(url)) == f"{player.__name__}({url.replace(TOKEN, '***')!r})"
    local = player(url, script_url="player.js")
    assert repr(local).endswith(", script_url='player.js')")
    assert TOKEN not in repr(local) + str(local)


@pytest.mark.parametrize(
    ("player", "url", "script", "kind"),
    [(HLSPlayer, HLS_URL, HLS_JS, "hls"), (DASHPlayer, DASH_URL, DASH_JS, "dash")],
)
def test_html_plays_the_url_with_the_cdn_script_or_the_one_given(
    player: Any, url: str, script: str, kind: str
) -> None:
    """The page gets the full URL (the browser needs its token) and the CDN's script by default."""
    rendered = options(player(url)._repr_html_())
    assert rendered["url"] == url
    assert (rendered["kind"], rendered["script"]) == (kind, script)
    assert options(player(url, script_url="/files/p.js")._repr_html_())["script"] == "/files/p.js"


def test_pinned_cdn_scripts_name_one_npm_version() -> None:
    """The default scripts are files of one published npm version, never a moving tag."""
    for script in (HLS_JS, DASH_JS):
        assert re.fullmatch(r"https://cdn\.jsdelivr\.net/npm/[a-z.]+@\d+\.\d+\.\d+/.+\.js", script)


def test_each_render_has_its_own_element() -> None:
    """Two renders of one player (or two players) name different elements, so none clash."""
    player = HLSPlayer(HLS_URL)
    first, second = player._repr_html_(), player._repr_html_()
    ids = [
        options(first)["id"],
        options(second)["id"],
        options(DASHPlayer(DASH_URL)._repr_html_())["id"],
    ]
    assert len(set(ids)) == 3
    assert f'<div id="{ids[0]}"' in first


def test_a_url_cannot_close_the_script_element() -> None:
    """Markup in a URL stays inside the script's data: no second script, no closed element."""
    url = HLS_URL + "&x=</script><script>alert(1)</script>&y=<b>"
    rendered = HLSPlayer(url)._repr_html_()
    assert rendered.count("<script>") == 1 and rendered.count("</script>") == 1
    assert options(rendered)["url"] == url


def test_players_refuse_to_be_pickled() -> None:
    """A pickle would carry the session token: players refuse, without showing it."""
    for player in (HLSPlayer(HLS_URL), DASHPlayer(DASH_URL)):
        with pytest.raises(TypeError, match="session token") as caught:
            pickle.dumps(player)
        assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"url": None}, "URL as a string"),
        ({"url": ""}, "URL as a string"),
        ({"url": HLS_URL, "width": 0}, "width"),
        ({"url": HLS_URL, "width": "640"}, "width"),
        ({"url": HLS_URL, "script_url": ""}, "script_url"),
    ],
)
def test_bad_arguments_are_validation_errors(arguments: dict[str, Any], message: str) -> None:
    """A missing URL, a width that is not a positive integer or an empty script_url is refused."""
    url = arguments.pop("url")
    with pytest.raises(ValidationError, match=message):
        HLSPlayer(url, **arguments)
