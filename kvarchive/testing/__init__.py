"""A local emulator of Kinesis Video Streams' archive, for tests and demos.

::

    from kvarchive.testing import Emulator

    with Emulator() as emu:
        stream = emu.add_stream("cam", fragment_count=30)
        kv = ArchivedMediaClient(endpoint_url=emu.endpoint_url, region_name=emu.region)

It serves the control plane (GetDataEndpoint, DescribeStream, ListStreams) and,
on a separate data endpoint, ListFragments, GetMediaForFragmentList, GetClip,
GetImages and the HLS/DASH session URLs, in the wire format botocore speaks,
answering as the service does (docs/testing/fidelity.md lists how, with
sources), and can inject faults: errors, throttling, cut connections, stalls,
limited bandwidth, a retired data endpoint and fragments served as error chunks.
An exception inside the emulator is raised in the test, never retried as a 500.
``emu.add_call_stream(name)`` makes a phone call in Amazon Connect's layout
(two tracks of 8 kHz PCM labelled ``A_AAC``), voiced by a recording the package
ships (:func:`call_voices`). ``emu.start_producing(name, ...)`` grows a stream
in real time, with fragments listed late and out of order, as the service's
eventually consistent ListFragments does.
"""

from __future__ import annotations

from kvarchive._public import publish
from kvarchive.testing._call import call_voices
from kvarchive.testing._emulator import Emulator
from kvarchive.testing._fragments import EBML_MAGIC, SyntheticFragment, synthetic_fragment
from kvarchive.testing._producer import Producer
from kvarchive.testing._server import RecordedRequest
from kvarchive.testing._streams import EmulatedStream, FragmentRecord, fragment_numbers

__all__ = [
    "EBML_MAGIC",
    "EmulatedStream",
    "Emulator",
    "FragmentRecord",
    "Producer",
    "RecordedRequest",
    "SyntheticFragment",
    "call_voices",
    "fragment_numbers",
    "synthetic_fragment",
]

# kvarchive.testing.Emulator, not kvarchive.testing._emulator.Emulator.
publish(globals(), __all__, __name__, "kvarchive.testing._")
