"""Decoding video frames to RGB pictures with PyAV (FFmpeg): the ``decode`` extra.

``decoded_frame`` holds the public :class:`DecodedFrame`; ``sampling`` plans
which frames to keep and decode (pure bookkeeping, no decoder); ``decoder``
drives FFmpeg, one decoder per video track; ``decoding`` feeds it a media
body's frames a GOP at a time (``MediaStream.iter_frames(decode=True)``).
PyAV and numpy are imported only when something is decoded, never by
``import kvarchive``.
"""
