"""Matroska (EBML) reading and writing: no AWS here, only bytes.

Used by the media layer (``kvarchive._media``), the downloader, the decoder
and the emulator. Imports nothing from boto3, botocore or the rest of
kvarchive but its errors and times (a test keeps it so).
"""
