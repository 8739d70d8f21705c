"""The ``kvarchive`` command line: the archive of a Kinesis video stream from a shell.

Exit status: 0 success; 1 a service or runtime error, told on one line of
stderr; 2 bad usage or a ValidationError. ``--debug`` adds tracebacks and
DEBUG logs of kvarchive and botocore, with credentials and session tokens
masked. Uses only kvarchive's public API.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from kvarchive import (
    ArchivedMediaClient,
    ClipTruncationWarning,
    CredentialsError,
    KVArchiveError,
    ServiceError,
    ValidationError,
    __version__,
)
from kvarchive._aws.hints import no_credentials_message, no_region_message
from kvarchive._files import output_file, output_folder
from kvarchive._progress import progress_bar
from kvarchive._redact import Redactor, debug_logging
from kvarchive.cli._output import (
    FRAGMENT_FORMATS,
    RESULT_FORMATS,
    ImageTally,
    download_line,
    download_record,
    iso,
    print_fragments,
    print_result,
    save_image,
    save_media,
)
from kvarchive.cli._times import HELP as TIME_HELP
from kvarchive.cli._times import TimeParser, join_time_options

__all__ = ["main"]

PROG = "kvarchive"
DEMO_FOLDER = "kvarchive-demo"
DEMO_STREAM = "kvarchive-demo"
# What a shell reports for a process killed by SIGPIPE (128 + 13), as for `yes | head`.
EXIT_BROKEN_PIPE = 141
TIMESTAMP_TYPES = ("SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP")
PLAYBACK_MODES = ("LIVE", "LIVE_REPLAY", "ON_DEMAND")
ALWAYS_NEVER = ("ALWAYS", "NEVER")

Command = Callable[[ArchivedMediaClient, argparse.Namespace], None]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    now = datetime.now(timezone.utc)
    try:
        args = _parse(sys.argv[1:] if argv is None else argv, now)
    except SystemExit as exc:  # argparse: --help, --version or a usage error
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
    redactor = Redactor.from_environment()
    with contextlib.ExitStack() as stack:
        if args.debug:
            stack.enter_context(debug_logging(redactor))
        try:
            done = _run(args, redactor)
            sys.stdout.flush()  # a reader that went away shows here, not at exit
            return done
        except BrokenPipeError:
            # The reader of stdout is gone (`| head`): stop quietly, as Unix tools do.
            _silence_stdout()
            return EXIT_BROKEN_PIPE
        except Exception as exc:
            status = _exit_status(exc)
            if status is None:
                raise
            if args.debug:
                sys.stderr.write(redactor(traceback.format_exc()))
            _error(redactor(_describe(exc)))
            return status
        except KeyboardInterrupt:
            _error("interrupted")
            return 130


# -- parsing -------------------------------------------------------------------------


def build_parser(now: Optional[datetime] = None) -> argparse.ArgumentParser:
    """The argument parser; relative times count back from ``now`` (default: now)."""
    when = TimeParser(now or datetime.now(timezone.utc))
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The archive of Amazon Kinesis Video Streams: list, play, clip, download.",
        epilog="Try it without an AWS account: kvarchive demo",
        parents=[common],
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command_name", metavar="COMMAND", required=True)

    def time_range(sub: argparse.ArgumentParser, required: bool = True) -> None:
        sub.add_argument("--start", type=when, required=required, help=TIME_HELP)
        sub.add_argument("--end", type=when, required=required, help=TIME_HELP)
        _choice(sub, "--timestamp-type", TIMESTAMP_TYPES, "SERVER_TIMESTAMP")

    def command(
        name: str,
        handler: Optional[Command],
        help_text: str,
        *,
        times: bool = True,
        outfile: Optional[tuple[str, str]] = None,
        formats: Sequence[str] = RESULT_FORMATS,
    ) -> argparse.ArgumentParser:
        """A subcommand: its time range, ``-o METAVAR`` (with help) and ``--output`` formats."""
        sub = commands.add_parser(
            name, parents=[common], help=help_text, description=help_text, allow_abbrev=False
        )
        sub.set_defaults(handler=handler, parser=sub)
        if times:
            time_range(sub)
        if outfile is not None:
            metavar, what = outfile
            sub.add_argument("-o", "--outfile", metavar=metavar, required=True, help=what)
        if formats:
            default = formats[0]
            help_format = f"format of the result (default: {default})"
            sub.add_argument("--output", choices=formats, default=default, help=help_format)
        return sub

    sub = command(
        "endpoint", _endpoint, "Print the data endpoint of one API (GetDataEndpoint).", times=False
    )
    sub.add_argument("api_name", metavar="API_NAME", help="e.g. LIST_FRAGMENTS, GET_CLIP")
    command(
        "fragments",
        _fragments,
        "List the fragments of a time range (ListFragments).",
        formats=FRAGMENT_FORMATS,
    )
    sub = command(
        "hls-url", _hls_url, "Print an HLS playback URL (GetHLSStreamingSessionURL).", times=False
    )
    _session_options(sub, time_range)
    _choice(sub, "--container-format", ("FRAGMENTED_MP4", "MPEG_TS"), "FRAGMENTED_MP4")
    _choice(sub, "--discontinuity-mode", ("ALWAYS", "NEVER", "ON_DISCONTINUITY"), "ALWAYS")
    sub.add_argument("--max-media-playlist-fragment-results", type=int, metavar="N")
    sub = command(
        "dash-url",
        _dash_url,
        "Print a DASH playback URL (GetDASHStreamingSessionURL).",
        times=False,
    )
    _session_options(sub, time_range)
    _choice(sub, "--display-fragment-number", ALWAYS_NEVER, "NEVER")
    sub.add_argument("--max-manifest-fragment-results", type=int, metavar="N")
    command(
        "clip",
        _clip,
        "Save an MP4 clip of a time range (GetClip), which stops at 200 fragments or 100 MB.",
        outfile=("FILE", "the MP4 file to write (missing folders are made)"),
    )
    command(
        "clips",
        _clips,
        "Save a long range as consecutive MP4 clips, none cut short (GetClip).",
        outfile=("DIR", "the folder for clip-0001.mp4, ... (made if missing)"),
    )
    sub = command(
        "images",
        _images,
        "Save images sampled over a time range (GetImages).",
        outfile=("DIR", "the folder to write the images into (made if missing)"),
    )
    sub.add_argument("--interval", type=int, default=1000, metavar="MS", help="sampling interval")
    _choice(sub, "--format", ("JPEG", "PNG"), "JPEG")
    sub.add_argument("--width", type=int, help="width in pixels")
    sub.add_argument("--height", type=int, help="height in pixels")
    sub.add_argument("--quality", type=int, help="JPEG quality, 1-100")
    sub = command(
        "download",
        _download,
        "Save the fragments of a time range as one MKV file.",
        outfile=("FILE", "the MKV file to write (missing folders are made)"),
    )
    sub.add_argument(
        "--concurrency", type=int, default=1, help="connections to fetch over at once (1-32)"
    )

    sub = command(
        "demo",
        None,
        "Run every command against a local emulator: no AWS needed.",
        times=False,
    )
    sub.add_argument("-o", "--outfile", metavar="DIR", default=DEMO_FOLDER, help="output folder")
    return parser


def _global_options() -> argparse.ArgumentParser:
    """The AWS CLI's options, accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    # SUPPRESS: an option given before the command is not reset by the command's parser.
    quiet = argparse.SUPPRESS
    common.add_argument("--region", default=quiet, help="AWS region")
    common.add_argument("--profile", default=quiet, help="named profile of the AWS config")
    common.add_argument("--endpoint-url", default=quiet, help="Kinesis Video control plane URL")
    common.add_argument("--debug", action="store_true", default=quiet, help="tracebacks and logs")
    stream = common.add_mutually_exclusive_group()
    stream.add_argument("--stream-name", default=quiet, metavar="NAME")
    stream.add_argument("--stream-arn", default=quiet, metavar="ARN")
    return common


def _choice(
    parser: argparse.ArgumentParser, flag: str, choices: Sequence[str], default: str
) -> None:
    parser.add_argument(
        flag, type=str.upper, choices=choices, default=default, help=f"(default: {default})"
    )


def _session_options(parser: argparse.ArgumentParser, time_range: Callable[..., None]) -> None:
    time_range(parser, required=False)
    parser.add_argument(
        "--playback-mode",
        type=str.upper,
        choices=PLAYBACK_MODES,
        help="default: LIVE without --start, LIVE_REPLAY with --start, ON_DEMAND with both",
    )
    _choice(parser, "--display-fragment-timestamp", ALWAYS_NEVER, "NEVER")
    parser.add_argument("--expires", type=int, default=300, metavar="SECONDS", help="300-43200")


def _parse(argv: Sequence[str], now: datetime) -> argparse.Namespace:
    parser = build_parser(now)
    args = parser.parse_args(join_time_options(argv))
    for name in ("region", "profile", "endpoint_url", "stream_name", "stream_arn"):
        setattr(args, name, getattr(args, name, None))
    args.debug = getattr(args, "debug", False)
    sub: argparse.ArgumentParser = args.parser
    if args.command_name != "demo":
        if args.stream_name is None and args.stream_arn is None:
            sub.error("give --stream-name or --stream-arn")
        if args.stream_name is not None and args.stream_arn is not None:
            sub.error("give only one of --stream-name and --stream-arn")
    if args.command_name in ("hls-url", "dash-url") and args.playback_mode is None:
        if args.start is None and args.end is not None:
            sub.error("--end needs --start (or give --playback-mode)")
        args.playback_mode = _playback_mode(args.start, args.end)
    return args


def _playback_mode(start: Optional[datetime], end: Optional[datetime]) -> str:
    if start is None:
        return "LIVE"
    return "LIVE_REPLAY" if end is None else "ON_DEMAND"


# -- running -------------------------------------------------------------------------


def _run(args: argparse.Namespace, redactor: Redactor) -> int:
    if args.command_name == "demo":
        if args.output == "json":  # the tour goes to stderr, the files written to stdout
            with contextlib.redirect_stdout(sys.stderr):
                written = _demo(args.outfile, redactor)
            print_result("json", {"folder": args.outfile, "written": written}, [])
        else:
            _demo(args.outfile, redactor)
        return 0
    import boto3

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    if session.region_name is None:
        raise ValidationError(no_region_message("give --region"))
    if args.debug:
        redactor.add_credentials(session)
    with ArchivedMediaClient(session=session, endpoint_url=args.endpoint_url) as kv:
        handler: Command = args.handler
        handler(kv, args)
    return 0


def _stream(args: argparse.Namespace) -> dict[str, Any]:
    return {"stream_name": args.stream_name, "stream_arn": args.stream_arn}


def _span(args: argparse.Namespace) -> dict[str, Any]:
    """The stream, time range and timestamp type a command names."""
    span = {"start": args.start, "end": args.end, "timestamp_type": args.timestamp_type}
    return {**_stream(args), **span}


def _endpoint(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    url = kv.data_endpoint(args.api_name, **_stream(args))
    print_result(args.output, {"api_name": args.api_name.upper(), "data_endpoint": url}, [url])


def _fragments(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    pager = kv.list_fragments(**_span(args))
    print_fragments(pager, args.output)


def _hls_url(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    url = kv.get_hls_streaming_session_url(
        **_stream(args),
        **_session_arguments(args),
        container_format=args.container_format,
        discontinuity_mode=args.discontinuity_mode,
        max_media_playlist_fragment_results=args.max_media_playlist_fragment_results,
    )
    print_result(args.output, {"url": url, "playback_mode": args.playback_mode}, [url])


def _dash_url(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    url = kv.get_dash_streaming_session_url(
        **_stream(args),
        **_session_arguments(args),
        display_fragment_number=args.display_fragment_number,
        max_manifest_fragment_results=args.max_manifest_fragment_results,
    )
    print_result(args.output, {"url": url, "playback_mode": args.playback_mode}, [url])


def _session_arguments(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "playback_mode": args.playback_mode,
        "start": args.start,
        "end": args.end,
        "timestamp_type": args.timestamp_type,
        "display_fragment_timestamp": args.display_fragment_timestamp,
        "expires": args.expires,
    }


def _clip(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    output_file(args.outfile)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        media = kv.get_clip(**_span(args))
    for warning in caught:
        if isinstance(warning.message, ClipTruncationWarning):
            _warn(
                f"this range holds {warning.message.fragment_count} fragments "
                f"({warning.message.size} bytes) and GetClip stops at 200 fragments or 100 MB: "
                "for the whole range use 'kvarchive clips -o DIR' (several MP4 files) "
                "or 'kvarchive download -o FILE.mkv'"
            )
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    size = save_media(media, args.outfile)
    print_result(args.output, {"path": args.outfile, "bytes_written": size}, [args.outfile])


def _clips(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    results = kv.download_clips(**_span(args), directory=args.outfile)
    records = [download_record(result) for result in results]
    print_result(args.output, records, [download_line(result) for result in results])


def _images(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    output_folder(args.outfile)
    images = kv.get_images(
        **_span(args),
        sampling_interval=args.interval,
        format=args.format,
        width=args.width,
        height=args.height,
        jpeg_quality=args.quality,
    )
    tally = ImageTally(args.outfile, images.instant_count, keep_paths=args.output == "json")
    passed = 0
    with progress_bar(True, tally.instants, "images", unit="instant") as advance:  # on a terminal
        for image in images:
            reached = (image.timestamp - images.start) // images.sampling_interval + 1
            advance(reached - passed)
            passed = reached
            if image.data is None:
                tally.fail(image)
                continue
            path = save_image(image.timestamp, image.data, args.outfile, args.format)
            tally.add(image, path)
            if args.output != "json":
                print(path)
        advance(tally.instants - passed)
    if args.output == "json":
        print_result(args.output, tally.record(), [])
    print(tally.summary(), file=sys.stderr)


def _download(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    result = kv.download(
        **_span(args),
        path=args.outfile,
        progress=True,  # drawn on a terminal only
        concurrency=args.concurrency,
    )
    print_result(args.output, download_record(result), [download_line(result)])


# -- demo ----------------------------------------------------------------------------


def _demo(folder: str, redactor: Redactor) -> list[str]:
    """Run the main job against the bundled emulator, writing into ``folder``; return the paths."""
    from kvarchive.testing import Emulator

    os.makedirs(folder, exist_ok=True)
    with Emulator() as emu:
        stream = emu.add_sample_stream(DEMO_STREAM)
        first, last = stream.fragments[0], stream.fragments[-1]
        start = first.server_timestamp
        end = last.server_timestamp + timedelta(milliseconds=last.duration_ms)
        print(f"Local emulator at {emu.endpoint_url}, stream {stream.name!r}:")
        print(f"{len(stream.fragments)} fragments from {iso(start)} to {iso(end)}\n")
        with emu.client() as kv:  # dummy credentials: the user may have none
            ref: dict[str, Any] = {"stream_name": stream.name}
            print_fragments(kv.list_fragments(**ref, start=start, end=end), "table")
            for kind, url in (
                ("HLS", kv.get_hls_streaming_session_url),
                ("DASH", kv.get_dash_streaming_session_url),
            ):
                playback = url(**ref, playback_mode="ON_DEMAND", start=start, end=end)
                print(f"\n{kind} URL (ON_DEMAND, token hidden): {redactor(playback)}")
            print()
            written = []
            recording = os.path.join(folder, "recording.mkv")
            result = kv.download(**ref, start=start, end=end, path=recording)
            print(f"Downloaded {result.fragment_count} fragments ({result.bytes_written} bytes)")
            written.append(recording)
            clip = os.path.join(folder, "clip.mp4")
            size = save_media(kv.get_clip(**ref, start=start, end=end), clip)
            print(f"Saved an MP4 clip of the range ({size} bytes)")
            written.append(clip)
            interval = max(1000, (end - start) // timedelta(seconds=4) * 1000)
            images = kv.get_images(**ref, start=start, end=end, sampling_interval=interval)
            frames = [
                save_image(image.timestamp, image.data, folder, "JPEG")
                for image in images
                if image.data
            ]
            print(f"Saved {len(frames)} JPEG frames, one every {interval} ms\n")
            written += frames
        for path in written:
            print(f"wrote {path}")
    return written


# -- errors --------------------------------------------------------------------------


def _exit_status(exc: BaseException) -> Optional[int]:
    """1 or 2 for the failures a user can meet, None for a bug (let it raise)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ValidationError):
        return 2
    if isinstance(exc, (KVArchiveError, BotoCoreError, ClientError, OSError)):
        return 1
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ServiceError):
        text = f"{exc.code}"
        if exc.operation:
            text += f" when calling {exc.operation}"
        text += f": {exc.message}"
        if exc.request_id:
            text += f" (request id: {exc.request_id})"
        return text
    if isinstance(exc, CredentialsError):
        return no_credentials_message(
            "pass --profile", "to try kvarchive without AWS: kvarchive demo"
        )
    return str(exc) or type(exc).__name__


def _error(message: str) -> None:
    line = " ".join(message.split())
    print(f"{PROG}: error: {line}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit finds no broken pipe."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)
