"""What the emulator serves to players: HLS and DASH streaming sessions and their media.

``sessions`` keeps the sessions (tokens, expiry, the limit of ten, what each
shows as the stream grows); ``resources`` answers the URLs a player fetches;
``hls`` and ``dash`` write the playlists and the manifest; ``fmp4`` and
``mpegts`` the media segments, from frames that ``timeline`` places on the
session's timeline.
"""
