"""Figures 1 and 2: the per-call overhead of list_fragments and get_hls_streaming_session_url.

Figure 1 compares kvarchive with a raw boto3 client created once on the data
endpoint; figure 2 with the naive pattern (GetDataEndpoint and a new client per call).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable

from common import (
    REGION,
    Row,
    StreamInfo,
    median,
    median_ratio,
    paired_calls,
    target_row,
)

if TYPE_CHECKING:
    from cases import Context


def _calls_stream(ctx: Context) -> StreamInfo:
    return ctx.stream("calls", fragment_count=100, payload_size=1024)


def _call_pairs(ctx: Context, kv: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Per operation: the kvarchive call and a function making the same call on a raw client."""
    stream = _calls_stream(ctx)
    start, end = stream.first, stream.first + timedelta(seconds=18)  # 10 fragments
    selector = {
        "FragmentSelectorType": "SERVER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end},
    }
    name = stream.name

    def kv_list() -> Any:
        return list(kv.list_fragments(stream_name=name, start=start, end=end).pages())

    def raw_list(client: Any) -> Any:
        return client.list_fragments(StreamName=name, MaxResults=1000, FragmentSelector=selector)

    def kv_hls() -> Any:
        return kv.get_hls_streaming_session_url(
            stream_name=name, playback_mode="ON_DEMAND", start=start, end=end
        )

    def raw_hls(client: Any) -> Any:
        # The same request kvarchive sends (it always sends these defaults).
        return client.get_hls_streaming_session_url(
            StreamName=name,
            PlaybackMode="ON_DEMAND",
            HLSFragmentSelector=selector,
            ContainerFormat="FRAGMENTED_MP4",
            DiscontinuityMode="ALWAYS",
            DisplayFragmentTimestamp="NEVER",
            Expires=300,
        )

    return {
        "list_fragments (1 page of 10)": (kv_list, raw_list),
        "get_hls_streaming_session_url": (kv_hls, raw_hls),
    }


def figure1_per_call(ctx: Context) -> list[Row]:
    """Per-call time of kvarchive vs a raw boto3 client created once on the data endpoint."""
    kv, raw = ctx.kv(), ctx.raw()
    rows = []
    for op, (kv_call, raw_call) in _call_pairs(ctx, kv).items():

        def reused(call: Callable[[Any], Any] = raw_call) -> Any:
            return call(raw)

        for _ in range(5):  # warm: endpoint resolved, connections open, models loaded
            kv_call()
            reused()
        kv_s, raw_s = paired_calls(kv_call, reused, reps=ctx.sizes.call_reps, calls=ctx.sizes.calls)
        rows.append(
            target_row(
                "1",
                f"{op}, per call",
                kv=median(kv_s) * 1e3,
                raw=median(raw_s) * 1e3,
                unit="ms",
                ratio=median_ratio(kv_s, raw_s),
                op="<=",
                limit=1.05,
                n=ctx.sizes.call_reps,
                raw_label="raw client, reused",
            )
        )
    kv.close()
    raw.close()
    return rows


def figure2_naive(ctx: Context) -> list[Row]:
    """kvarchive vs the naive pattern: GetDataEndpoint and a new boto3 client for every call."""
    import boto3

    kv = ctx.kv()
    control = boto3.client("kinesisvideo", endpoint_url=ctx.emu.endpoint_url, region_name=REGION)
    api_names = {
        "list_fragments (1 page of 10)": "LIST_FRAGMENTS",
        "get_hls_streaming_session_url": "GET_HLS_STREAMING_SESSION_URL",
    }
    name = _calls_stream(ctx).name
    rows = []
    for op, (kv_call, raw_call) in _call_pairs(ctx, kv).items():

        def naive(call: Callable[[Any], Any] = raw_call, api: str = api_names[op]) -> Any:
            endpoint = control.get_data_endpoint(StreamName=name, APIName=api)["DataEndpoint"]
            client = boto3.client(
                "kinesis-video-archived-media", endpoint_url=endpoint, region_name=REGION
            )
            try:
                return call(client)
            finally:
                client.close()  # naive code leaks it; closing keeps the emulator's threads few

        for _ in range(2):
            kv_call()
            naive()
        kv_s, naive_s = paired_calls(
            kv_call, naive, reps=ctx.sizes.naive_reps, calls=ctx.sizes.naive_calls
        )
        rows.append(
            target_row(
                "2",
                f"{op}, per call",
                kv=median(kv_s) * 1e3,
                raw=median(naive_s) * 1e3,
                unit="ms",
                ratio=median_ratio(naive_s, kv_s),
                op=">=",
                limit=2.5,
                n=ctx.sizes.naive_reps,
                raw_label="naive: endpoint + new client per call",
                ratio_text="naive/kv ",
            )
        )
    kv.close()
    control.close()
    return rows
