"""``DecodedFrame``: one decoded video frame as an RGB array, and its ways out as an image.

numpy comes with the ``decode`` extra that makes these frames; Pillow, for
``to_image``, ``save`` and the notebook display, with the ``images`` extra.
Neither is imported before it is needed.
"""

from __future__ import annotations

import io
import os
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Optional, Union

import attrs

from kvarchive._extras import require

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray
    from PIL import Image

__all__ = ["DecodedFrame", "require_images"]

_NOTEBOOK_JPEG_QUALITY = 90


def require_images() -> None:
    """Import Pillow, or raise an ImportError that says how to install it."""
    require("images", "images of decoded frames need Pillow", "PIL")


def _image_repr(image: NDArray[numpy.uint8]) -> str:
    height, width = image.shape[:2]
    return f"<{width}x{height} RGB>"


@attrs.frozen(eq=False)
class DecodedFrame:
    """One decoded video frame: track number, time, keyframe flag and pixels.

    ``utc_time`` is the source frame's ``Frame.utc_time`` (an aware UTC
    datetime), ``keyframe`` its Matroska keyframe flag, ``image`` a numpy
    ``uint8`` array of height x width x 3, RGB, C-contiguous. Frames compare
    by identity: compare their ``image`` arrays with numpy.
    """

    track: int
    utc_time: datetime
    keyframe: bool
    image: NDArray[numpy.uint8] = attrs.field(repr=_image_repr)

    def to_image(self) -> Image.Image:
        """The frame as a Pillow image (mode ``RGB``); needs Pillow (the ``images`` extra)."""
        require_images()
        from PIL import Image

        return Image.fromarray(self.image)

    def save(
        self,
        path: Union[str, os.PathLike[str], IO[bytes]],
        format: Optional[str] = None,
        **options: Any,
    ) -> None:
        """Write the frame as an image file; the format follows the name unless given.

        ``options`` go to Pillow's ``Image.save`` (for example ``quality=90``
        for JPEG).
        """
        self.to_image().save(path, format=format, **options)

    def _repr_jpeg_(self) -> bytes:
        """JPEG bytes, so that a notebook shows the frame inline.

        JPEG only, not PNG as well: a notebook keeps every format offered, and a
        camera picture as PNG is ten times the size.
        """
        buffer = io.BytesIO()
        self.save(buffer, format="JPEG", quality=_NOTEBOOK_JPEG_QUALITY)
        return buffer.getvalue()
