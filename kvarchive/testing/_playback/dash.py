"""The MPEG-DASH manifest of a streaming session (GetDASHManifest).

One AdaptationSet per track, each a SegmentTemplate over the same fMP4 init
and media fragments as HLS, with a SegmentTimeline of one ``S`` per KVS
fragment. The API reference says fragments "are identified in the manifest
file based on their sequence number in the session", so the media template
asks for ``SequenceNumber=$Number$``; with ``DisplayFragmentNumber=ALWAYS``
each ``S`` carries the fragment number as ``kvs:fn``, and with
``DisplayFragmentTimestamp=ALWAYS`` its timestamp as ``kvs:ts``. The service
does not document the namespace URI of these attributes nor the form of
``kvs:ts``: the emulator declares its own URI, so the manifest is
well-formed XML, and writes epoch milliseconds.

``ON_DEMAND`` manifests are ``static``; ``LIVE`` and ``LIVE_REPLAY`` ones are
``dynamic``, refreshed every second, with a ``UTCTiming`` element so that
players need no time server.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from kvarchive.testing._mkv_writer import Track
from kvarchive.testing._mp4 import codecs
from kvarchive.testing._playback.hls import bandwidth, frame_rate, program_date_time
from kvarchive.testing._playback.sessions import Session, Window
from kvarchive.testing._playback.timeline import timescale
from kvarchive.testing._streams import FragmentRecord

__all__ = ["KVS_NAMESPACE", "manifest"]

KVS_NAMESPACE = "urn:kvarchive:emulator:kvs"
"""The namespace URI the emulator declares for the ``kvs:`` attributes."""


def _duration(ms: int) -> str:
    return f"PT{ms // 1000}.{ms % 1000:03d}S"


def _attributes(**values: object) -> str:
    return " ".join(f"{name.replace('_', ':')}={quoteattr(str(v))}" for name, v in values.items())


def manifest(session: Session, tracks: Sequence[Track], window: Window, now: float) -> str:
    """The session's MPD as of ``window``, fetched at clock time ``now``."""
    fragments = window.fragments
    first, last = fragments[0], fragments[-1]
    static = window.complete
    head = {
        "xmlns": "urn:mpeg:dash:schema:mpd:2011",
        "xmlns_kvs": KVS_NAMESPACE,
        "profiles": "urn:mpeg:dash:profile:isoff-live:2011",
        "type": "static" if static else "dynamic",
        "minBufferTime": _duration(2 * max(f.duration_ms for f in fragments)),
    }
    end_ms = session.position_ms(last) + last.duration_ms
    if static:
        head["mediaPresentationDuration"] = _duration(end_ms)
    else:
        shown_ms = end_ms - session.position_ms(first)
        head.update(
            availabilityStartTime=program_date_time(session.anchor_ms),
            publishTime=program_date_time(int(now * 1000)),
            minimumUpdatePeriod="PT1.000S",
            timeShiftBufferDepth=_duration(shown_ms),
            suggestedPresentationDelay=_duration(min(shown_ms, 3 * last.duration_ms)),
        )
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<MPD {_attributes(**head)}>",
        '  <Period id="0" start="PT0S">',
    ]
    for track in tracks:
        lines += _adaptation_set(session, track, fragments)
    lines.append("  </Period>")
    if not static:
        now_text = program_date_time(int(now * 1000))
        lines.append(
            f'  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="{now_text}"/>'
        )
    lines.append("</MPD>")
    return "\n".join(lines) + "\n"


def _adaptation_set(
    session: Session, track: Track, fragments: Sequence[FragmentRecord]
) -> list[str]:
    request = session.request
    ticks = timescale(track)
    token = session.token
    if track.kind == "video":
        kind = {"contentType": "video", "mimeType": "video/mp4"}
        details = {
            "width": track.width,
            "height": track.height,
            "frameRate": f"{frame_rate(fragments[0], track):g}",
        }
    else:
        kind = {"contentType": "audio", "mimeType": "audio/mp4"}
        details = {"audioSamplingRate": track.sample_rate}
    representation = {
        "id": track.number,
        "codecs": codecs(track),
        "bandwidth": bandwidth(fragments),
        **details,
    }
    template = {
        "timescale": ticks,
        "startNumber": session.sequence(fragments[0]),
        "initialization": f"getMP4InitFragment.mp4?SessionToken={token}&TrackNumber={track.number}",
        "media": (
            f"getMP4MediaFragment.mp4?SessionToken={token}&TrackNumber={track.number}"
            "&SequenceNumber=$Number$"
        ),
    }
    lines = [
        f'    <AdaptationSet id="{track.number}" {_attributes(**kind)}'
        ' segmentAlignment="true" startWithSAP="1">',
        f"      <Representation {_attributes(**representation)}>",
    ]
    if track.kind == "audio":
        lines.append(
            '        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:'
            f'audio_channel_configuration:2011" value="{track.channels}"/>'
        )
    lines += [f"        <SegmentTemplate {_attributes(**template)}>", "          <SegmentTimeline>"]
    for fragment in fragments:
        start = session.position_ms(fragment) * ticks // 1000
        end = (session.position_ms(fragment) + fragment.duration_ms) * ticks // 1000
        segment: dict[str, object] = {"t": start, "d": end - start}
        if request.display_number:
            segment["kvs_fn"] = fragment.number
        if request.display_timestamp:
            segment["kvs_ts"] = session.timestamp_ms(fragment)
        lines.append(f"            <S {_attributes(**segment)}/>")
    lines += [
        "          </SegmentTimeline>",
        "        </SegmentTemplate>",
        "      </Representation>",
        "    </AdaptationSet>",
    ]
    return lines
