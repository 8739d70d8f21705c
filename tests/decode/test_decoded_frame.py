"""DecodedFrame: images out through Pillow, inline in a notebook, and the extras it needs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter
from isolated import python_with_only
from pictures import ffprobe_image
from PIL import Image
from realdata import SAMPLE

from kvarchive import DecodedFrame, MediaStream

needs_ffprobe = pytest.mark.skipif(
    shutil.which("ffprobe") is None,
    reason="ffprobe reads the images here",
)


@pytest.fixture(scope="module")
def frame() -> DecodedFrame:
    """The sample's first frame, decoded."""
    with MediaStream.from_file(SAMPLE) as media:
        return next(media.iter_frames(decode=True))


def test_image_is_height_by_width_by_three_uint8(frame: DecodedFrame) -> None:
    """The array is uint8, height x width x 3, and the repr names its size, not its pixels."""
    assert frame.image.dtype == np.uint8 and frame.image.shape == (240, 320, 3)
    assert frame.image.flags.c_contiguous
    assert "image=<320x240 RGB>" in repr(frame) and frame.track == 1 and frame.keyframe


def test_to_image_is_an_rgb_pillow_image_of_the_same_pixels(frame: DecodedFrame) -> None:
    """to_image() gives a Pillow RGB image holding exactly the array's pixels."""
    image = frame.to_image()
    assert isinstance(image, Image.Image)
    assert (image.mode, image.size) == ("RGB", (320, 240))
    assert np.array_equal(np.asarray(image), frame.image)


@needs_ffprobe
def test_save_png_keeps_every_pixel(frame: DecodedFrame, tmp_path: Path) -> None:
    """save("x.png") writes a PNG that ffprobe reads and that reopens to the same pixels."""
    path = tmp_path / "frame.png"
    frame.save(path)
    assert ffprobe_image(path) == "png,320,240"
    with Image.open(path) as reopened:
        assert np.array_equal(np.asarray(reopened.convert("RGB")), frame.image)


@needs_ffprobe
def test_save_jpeg_by_name_with_options(frame: DecodedFrame, tmp_path: Path) -> None:
    """save("x.jpg", quality=95) writes a JPEG close to the pixels; a file object works too."""
    path = tmp_path / "frame.jpg"
    frame.save(str(path), quality=95)
    assert ffprobe_image(path) == "mjpeg,320,240"
    with Image.open(path) as reopened:
        difference = np.abs(np.asarray(reopened).astype(int) - frame.image.astype(int))
    assert difference.mean() < 3
    with open(tmp_path / "named-by-format", "wb") as out:
        frame.save(out, format="PNG")
    assert ffprobe_image(tmp_path / "named-by-format") == "png,320,240"


def test_save_into_a_missing_folder_fails_plainly(frame: DecodedFrame, tmp_path: Path) -> None:
    """A path whose folder is missing raises FileNotFoundError, and writes nothing."""
    with pytest.raises(FileNotFoundError):
        frame.save(tmp_path / "missing" / "frame.png")
    assert not (tmp_path / "missing").exists()


def test_a_notebook_shows_the_frame_as_jpeg(frame: DecodedFrame) -> None:
    """IPython's display formatter finds a JPEG of the frame (and its text repr)."""
    data, _ = DisplayFormatter().format(frame)
    assert data["image/jpeg"][:2] == b"\xff\xd8"
    assert "image/png" not in data
    assert data["text/plain"].startswith("DecodedFrame(track=1")


def test_frames_compare_by_identity(frame: DecodedFrame) -> None:
    """Two frames with equal pixels are distinct objects; a frame equals itself."""
    twin = DecodedFrame(frame.track, frame.utc_time, frame.keyframe, frame.image.copy())
    assert frame == frame and frame != twin


# -- without the extras -----------------------------------------------------------------


def test_without_pyav_and_numpy_decoding_says_how_to_install(tmp_path: Path) -> None:
    """With neither av nor numpy importable, iter_frames(decode=True) raises an ImportError naming
    the extra at the call, before any frame is read."""
    code = f"""
import importlib.util
from kvarchive import MediaStream
print(importlib.util.find_spec("av"), importlib.util.find_spec("numpy"))
with MediaStream.from_file({str(SAMPLE)!r}) as media:
    try:
        media.iter_frames(decode=True)
    except ImportError as error:
        print(error)
    print(media.position)
"""
    result = python_with_only(tmp_path, ["attr", "attrs"], "-c", code)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "None None"
    assert 'pip install "kvarchive[decode]"' in out[1]
    assert out[2] == "0"


def test_without_pillow_images_say_how_to_install(tmp_path: Path) -> None:
    """With numpy but no Pillow, to_image() raises an ImportError naming the images extra."""
    code = """
import importlib.util, datetime, numpy
from kvarchive import DecodedFrame
print(importlib.util.find_spec("PIL"))
frame = DecodedFrame(1, datetime.datetime.now(datetime.timezone.utc), True, numpy.zeros((2, 2, 3), numpy.uint8))
try:
    frame.to_image()
except ImportError as error:
    print(error)
"""
    result = python_with_only(tmp_path, ["attr", "attrs", "numpy"], "-c", code)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "None"
    assert 'pip install "kvarchive[images]"' in out[1]
