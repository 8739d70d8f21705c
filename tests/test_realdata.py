"""Real recordings from Kinesis Video Streams and its producers, read as mkvinfo and ffprobe read them.

The files in tests/data/realdata/ come from AWS's own repositories (see its
README): a GetMedia body of 2017 with stream-relative Cluster Timecodes, a file
written by the KVS producer SDK, and a producer-side MKV without AWS tags.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kvarchive import MediaStream

REALDATA = Path(__file__).parent / "data" / "realdata"
GET_MEDIA = REALDATA / "output_get_media.mkv"
PRODUCER_SDK = REALDATA / "test-stream-1_0.mkv"
CLUSTERS = REALDATA / "clusters.mkv"
GET_MEDIA_NUMBERS = [
    "91343852333181432392682062607743920146159169392",
    "91343852333181432397633822764885441725874549018",
    "91343852333181432402585582922026963247510532162",
    "91343852333181432407537343079168484595829378270",
    "91343852333181432412489103236310005892133364608",
]

needs_mkvinfo = pytest.mark.skipif(shutil.which("mkvinfo") is None, reason="mkvinfo not installed")


def mkvinfo_tags(path: Path) -> list[tuple[str, str]]:
    """Every SimpleTag of a file as (name, value), in the order mkvinfo lists them."""
    report = subprocess.run(
        ["mkvinfo", "-v", str(path)], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    tags: list[tuple[str, str]] = []
    name = None
    for line in report.splitlines():
        if line.endswith("+ Simple"):
            name = None
        elif (found := re.search(r"\+ Name: (.*)$", line)) and name is None:
            name = found.group(1)
        elif (found := re.search(r"\+ String(?:: (.*))?$", line)) and name is not None:
            tags.append((name, found.group(1) or ""))
            name = None
    return tags


def as_service_body(path: Path) -> MediaStream:
    """A saved GetMedia body served again as a GetMediaForFragmentList answer would be."""
    data = path.read_bytes()
    return MediaStream.for_fragments(
        GET_MEDIA_NUMBERS, lambda batch: (io.BytesIO(data), "video/webm"), batch_size=1000
    )


# -- tags ---------------------------------------------------------------------------------


def test_repeated_tag_names_are_kept_in_file_order() -> None:
    """tag_list keeps both ENCODER tags of every fragment; tags keeps the last of them."""
    with as_service_body(GET_MEDIA) as media:
        fragments = list(media.iter_fragments())
    assert [f.number for f in fragments] == GET_MEDIA_NUMBERS
    for fragment in fragments:
        encoders = [value for name, value in fragment.tag_list if name == "ENCODER"]
        assert encoders == ["Lavf57.71.100", "Elemental H.264"]
        assert fragment.tags["ENCODER"] == "Elemental H.264"
        assert fragment.tags == dict(fragment.tag_list)
        assert len(fragment.tag_list) == 12


@needs_mkvinfo
def test_tag_lists_match_mkvinfo() -> None:
    """The tag lists of all fragments, end to end, are the SimpleTags mkvinfo lists."""
    with as_service_body(GET_MEDIA) as media:
        tags = [tag for fragment in media.iter_fragments() for tag in fragment.tag_list]
    assert tags == mkvinfo_tags(GET_MEDIA)
