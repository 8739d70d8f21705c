"""A local emulator of Kinesis Video Streams' archive, for tests and demos.

::

    from kvarchive.testing import Emulator

    with Emulator() as emu:
        stream = emu.add_stream("cam", fragment_count=30)
        kv = ArchivedMediaClient(endpoint_url=emu.endpoint_url, region_name=emu.region)

It serves the control plane (GetDataEndpoint, DescribeStream) and, on a
separate data endpoint, ListFragments, GetMediaForFragmentList, GetClip,
GetImages and the HLS/DASH session URLs, in the wire format botocore speaks,
and can inject faults: errors, throttling, cut connections, stalls, limited
bandwidth and a retired data endpoint.
"""

from __future__ import annotations

from kvarchive.testing._emulator import Emulator
from kvarchive.testing._fragments import EBML_MAGIC, SyntheticFragment, synthetic_fragment
from kvarchive.testing._server import RecordedRequest
from kvarchive.testing._streams import EmulatedStream, FragmentRecord, fragment_numbers

__all__ = [
    "EBML_MAGIC",
    "EmulatedStream",
    "Emulator",
    "FragmentRecord",
    "RecordedRequest",
    "SyntheticFragment",
    "fragment_numbers",
    "synthetic_fragment",
]

# Public names print as public: kvarchive.testing.Emulator, not ..._emulator.Emulator.
for _name in __all__:
    _value = globals()[_name]
    if getattr(_value, "__module__", "").startswith("kvarchive.testing._"):
        _value.__module__ = __name__
del _name, _value
