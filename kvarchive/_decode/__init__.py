"""Decoding video frames to RGB pictures with PyAV (FFmpeg): the ``decode`` extra.

``decoded_frame`` holds the public :class:`DecodedFrame`; ``sampling`` plans
which frames to keep and decode (pure bookkeeping, no decoder); ``decoder``
drives FFmpeg, one decoder per video track. PyAV and numpy are imported only
when something is decoded, never by ``import kvarchive``.
"""
