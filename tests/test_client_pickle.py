"""An ArchivedMediaClient pickles to its settings only and is rebuilt from the worker's chain."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from kvarchive import (
    ArchivedMediaClient,
    Backoff,
    ClientLimitExceededError,
    ServiceError,
    UsageError,
)
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
SPAN = {"start": T0, "end": T0 + timedelta(minutes=1)}
STATIC_ID = "AKIASTATICKEYINCODE01"
STATIC_SECRET = "static/secret/key/set/in/code/000000000"


def planted() -> list[str]:
    """The credentials conftest plants in the environment: no pickle may hold them."""
    return [
        os.environ[name]
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    ]


def unpickle_and_list(pickled: bytes, tmp_path: Path, env: dict[str, str]) -> str:
    """Unpickle a client in a fresh process whose environment is ``env`` (and PATH, HOME) only,
    list the fragments of "cam" with it, and return what it printed: a count or an error."""
    (tmp_path / "client.pickle").write_bytes(pickled)
    code = (
        "import pickle, sys\n"
        "from datetime import datetime, timedelta, timezone\n"
        "import kvarchive\n"
        "kv = pickle.load(open('client.pickle', 'rb'))\n"
        "t0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)\n"
        "try:\n"
        "    print(len(list(kv.list_fragments(stream_name='cam', start=t0,\n"
        "                                     end=t0 + timedelta(minutes=1)))))\n"
        "except kvarchive.KVArchiveError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    clean = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_pickle_holds_no_credentials_tokens_or_endpoints(emulator: Emulator) -> None:
    """A used client's pickle holds none of the planted credentials, nor its cached data endpoint."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url) as kv:
        assert len(list(kv.list_fragments(stream_name="cam", **SPAN))) == 3
        pickled = pickle.dumps(kv)
    for secret in [*planted(), emulator.data_endpoint_url]:
        assert secret.encode() not in pickled
    assert emulator.endpoint_url.encode() in pickled  # the control plane is a setting


def test_unpickled_client_resolves_its_endpoints_again(emulator: Emulator) -> None:
    """An unpickled client works against the same endpoint and asks GetDataEndpoint afresh."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url) as kv:
        list(kv.list_fragments(stream_name="cam", **SPAN))
        copy = pickle.loads(pickle.dumps(kv))
    with copy:
        assert len(list(copy.list_fragments(stream_name="cam", **SPAN))) == 3
    assert emulator.count("GetDataEndpoint") == 2


def test_worker_signs_with_its_own_credentials_and_gets_the_region(
    emulator: Emulator, tmp_path: Path
) -> None:
    """In a process with keys but no region, the unpickled client works (the region traveled);
    in one without keys it raises CredentialsError (no key traveled)."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    kv = ArchivedMediaClient(endpoint_url=emulator.endpoint_url, region_name="eu-west-1")
    pickled = pickle.dumps(kv)
    keys = {"AWS_ACCESS_KEY_ID": "AKIAWORKER", "AWS_SECRET_ACCESS_KEY": "worker-secret"}
    assert unpickle_and_list(pickled, tmp_path, keys) == "3"
    assert unpickle_and_list(pickled, tmp_path, {}).startswith("CredentialsError")


def test_botocore_config_and_backoff_travel(emulator: Emulator) -> None:
    """The botocore config (no retries) and the backoff (one attempt) hold in the unpickled client."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    kv = ArchivedMediaClient(
        endpoint_url=emulator.endpoint_url,
        config=Config(retries={"total_max_attempts": 1}),
        backoff=Backoff(attempts=1),
    )
    copy = pickle.loads(pickle.dumps(kv))
    with copy:
        copy.data_endpoint("LIST_FRAGMENTS", stream_name="cam")
        emulator.fail_next("ListFragments", "InternalFailure")
        with pytest.raises(ServiceError) as failed:
            list(copy.list_fragments(stream_name="cam", **SPAN))
        assert failed.value.code == "InternalFailure"
        emulator.fail_next("ListFragments", "ClientLimitExceededException")
        with pytest.raises(ClientLimitExceededError):
            list(copy.list_fragments(stream_name="cam", **SPAN))
    default = pickle.loads(pickle.dumps(ArchivedMediaClient(endpoint_url=emulator.endpoint_url)))
    with default:
        emulator.fail_next("ListFragments", "InternalFailure")
        emulator.fail_next("ListFragments", "ClientLimitExceededException")
        assert len(list(default.list_fragments(stream_name="cam", **SPAN))) == 3


def test_keys_set_in_code_refuse_to_pickle(emulator: Emulator) -> None:
    """A client on a session with keys set in code will not pickle, and says how to proceed."""
    session = boto3.Session(
        aws_access_key_id=STATIC_ID, aws_secret_access_key=STATIC_SECRET, region_name="us-east-1"
    )
    kv = ArchivedMediaClient(session=session, endpoint_url=emulator.endpoint_url)
    with pytest.raises(UsageError) as refused:
        pickle.dumps(kv)
    message = str(refused.value)
    assert "pickle_without_keys=True" in message and "keys set in code" in message
    assert STATIC_ID not in message and STATIC_SECRET not in message


def test_opting_in_pickles_without_the_keys(emulator: Emulator) -> None:
    """With pickle_without_keys=True the client pickles, leaving its keys behind, and the
    unpickled one works on the environment's credentials."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    session = boto3.Session(
        aws_access_key_id=STATIC_ID, aws_secret_access_key=STATIC_SECRET, region_name="us-east-1"
    )
    kv = ArchivedMediaClient(
        session=session, endpoint_url=emulator.endpoint_url, pickle_without_keys=True
    )
    pickled = pickle.dumps(kv)
    assert STATIC_ID.encode() not in pickled and STATIC_SECRET.encode() not in pickled
    with pickle.loads(pickled) as copy:
        assert len(list(copy.list_fragments(stream_name="cam", **SPAN))) == 3


def test_a_session_from_the_environment_pickles(emulator: Emulator) -> None:
    """A session whose keys come from the credential chain (here the environment) pickles as is."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    kv = ArchivedMediaClient(session=boto3.Session(), endpoint_url=emulator.endpoint_url)
    kv.data_endpoint("LIST_FRAGMENTS", stream_name="cam")  # the session has its keys now
    pickled = pickle.dumps(kv)
    for secret in planted():
        assert secret.encode() not in pickled


def test_emulator_clients_pickle_without_their_dummy_keys(emulator: Emulator) -> None:
    """emu.client() pickles (for process pools and Dask) and leaves its dummy keys behind."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    pickled = pickle.dumps(emulator.client())
    assert b"kvarchive-emulator" not in pickled
    with pickle.loads(pickled) as copy:
        assert len(list(copy.list_fragments(stream_name="cam", **SPAN))) == 3


def test_the_profile_name_travels_not_its_keys(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client on a named profile pickles the name, not the profile's keys; a worker with the
    profile works, one without it is told which profile it lacks."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("[profile nightly-export]\nregion = eu-west-2\n")
    credentials.write_text(
        "[nightly-export]\naws_access_key_id = AKIAPROFILEKEY\naws_secret_access_key = profile-secret\n"
    )
    files = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    for name, value in files.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # the profile's region, then
    session = boto3.Session(profile_name="nightly-export")
    pickled = pickle.dumps(ArchivedMediaClient(session=session, endpoint_url=emulator.endpoint_url))
    assert b"nightly-export" in pickled and b"eu-west-2" in pickled
    assert b"AKIAPROFILEKEY" not in pickled and b"profile-secret" not in pickled
    worker = tmp_path / "worker"
    worker.mkdir()
    assert unpickle_and_list(pickled, worker, files) == "3"
    lacking = unpickle_and_list(pickled, worker, {})
    assert lacking.startswith("ValidationError") and "'nightly-export'" in lacking


def test_copies_unpickled_in_one_process_share_their_endpoints(emulator: Emulator) -> None:
    """Two copies of one client unpickled in one process (two shards on one pool worker) share
    the endpoint cache: one GetDataEndpoint between them; a copy of another client has its own."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    pickled = pickle.dumps(emulator.client())
    for copy in (pickle.loads(pickled), pickle.loads(pickled)):
        assert len(list(copy.list_fragments(stream_name="cam", **SPAN))) == 3
    assert emulator.count("GetDataEndpoint") == 1
    other = pickle.loads(pickle.dumps(emulator.client()))
    list(other.list_fragments(stream_name="cam", **SPAN))
    assert emulator.count("GetDataEndpoint") == 2
