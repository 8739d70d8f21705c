"""Audio out of the archive: decoded blocks (``MediaStream.iter_audio``) and WAV files
(``download_audio``).

``codecs`` says what a track's bytes are (CodecID, WAVEFORMATEX, or Amazon
Connect's ``MimeType`` tag) and picks a decoder: ``pcm`` converts PCM and
G.711 with no extra, ``compressed`` decodes AAC and Opus with PyAV.
``reader`` turns the frame reader's items into :class:`AudioChunk`\\ s;
``mixer`` puts chosen tracks on one sample clock and ``wav`` writes the file;
``download`` is the job that fetches, mixes and writes. This package may
import kvarchive's Matroska reading, errors, times and files, and nothing of
AWS: the client hands the job its fetching.
"""
