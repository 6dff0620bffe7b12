"""Cases for the Python client `kurrentdbclient` (installed from PyPI by the runner,
tests/python_client.rs) against esdb-testserver, restricted to the operations the ledger's adapter
uses: append with an expected version, idempotent retry, stream reads either way, $all reads and
catch-up subscriptions. The behaviours asserted are those the client's own test suite asserts
against a real server (restated as facts; no code of that suite is here).

Every append passes one `NewEvent`: the client sends that with `Streams.Append`, which the adapter
uses; a sequence of events goes through `BatchAppend`, which the adapter does not use and the test
server does not serve (not applicable).

Usage: python client_cases.py URI. Prints one line per case and a closing line
"python client cases: P pass, F fail"; exits 1 when a case fails.
"""

import sys
import traceback
import uuid

from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import NotFoundError, WrongCurrentVersionError

URI = sys.argv[1]
client = KurrentDBClient(uri=URI)
CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def stream():
    return "py-" + str(uuid.uuid4())


def event(n=0, type_="OrderCreated"):
    return NewEvent(type=type_, data=b'{"n": %d}' % n, metadata=b"{}")


def fill(s, count):
    """Appends `count` events to a new stream one by one (Streams.Append)."""
    for i in range(count):
        version = StreamState.NO_STREAM if i == 0 else i - 1
        client.append_to_stream(s, events=event(i), current_version=version)


@case
def append_to_new_stream_returns_commit_position():
    s = stream()
    position = client.append_to_stream(s, events=event(), current_version=StreamState.NO_STREAM)
    assert isinstance(position, int) and position > 0
    assert client.get_current_version(s) == 0


@case
def append_with_wrong_current_version_is_refused():
    s = stream()
    client.append_to_stream(s, events=event(), current_version=StreamState.NO_STREAM)
    try:
        client.append_to_stream(s, events=event(1), current_version=StreamState.NO_STREAM)
    except WrongCurrentVersionError:
        pass
    else:
        raise AssertionError("expected WrongCurrentVersionError")
    try:
        client.append_to_stream(s, events=event(1), current_version=5)
    except WrongCurrentVersionError:
        pass
    else:
        raise AssertionError("expected WrongCurrentVersionError")


@case
def append_with_exact_current_version():
    s = stream()
    fill(s, 2)
    client.append_to_stream(s, events=event(2), current_version=1)
    assert client.get_current_version(s) == 2


@case
def append_with_any_and_exists():
    s = stream()
    client.append_to_stream(s, events=event(), current_version=StreamState.ANY)
    client.append_to_stream(s, events=event(1), current_version=StreamState.EXISTS)
    assert client.get_current_version(s) == 1
    try:
        client.append_to_stream(stream(), events=event(), current_version=StreamState.EXISTS)
    except WrongCurrentVersionError:
        pass
    else:
        raise AssertionError("EXISTS on a new stream must be refused")


@case
def repeated_append_is_idempotent_and_returns_the_same_position():
    s = stream()
    one = event(0)
    first = client.append_to_stream(s, events=one, current_version=StreamState.NO_STREAM)
    client.append_to_stream(stream(), events=event(9), current_version=StreamState.NO_STREAM)
    again = client.append_to_stream(s, events=one, current_version=StreamState.NO_STREAM)
    assert again == first, (first, again)
    assert len(client.get_stream(s)) == 1


@case
def get_current_version_of_missing_stream():
    assert client.get_current_version(stream()) == StreamState.NO_STREAM


@case
def read_missing_stream_raises_not_found():
    try:
        client.get_stream(stream())
    except NotFoundError:
        pass
    else:
        raise AssertionError("expected NotFoundError")


@case
def read_stream_forwards_backwards_from_position_with_limit():
    s = stream()
    fill(s, 5)
    forwards = client.get_stream(s)
    assert [e.stream_position for e in forwards] == [0, 1, 2, 3, 4]
    assert [e.data for e in forwards] == [b'{"n": %d}' % i for i in range(5)]
    assert all(e.stream_name == s and e.type == "OrderCreated" for e in forwards)
    backwards = client.get_stream(s, backwards=True)
    assert [e.stream_position for e in backwards] == [4, 3, 2, 1, 0]
    assert [e.stream_position for e in client.get_stream(s, stream_position=2)] == [2, 3, 4]
    assert [e.stream_position for e in client.get_stream(s, stream_position=2, backwards=True)] == [2, 1, 0]
    assert [e.stream_position for e in client.get_stream(s, limit=2)] == [0, 1]


@case
def recorded_events_carry_ids_positions_and_metadata():
    s = stream()
    new = NewEvent(type="Custom", data=b'{"a": 1}', metadata=b'{"m": 2}', id=uuid.uuid4())
    position = client.append_to_stream(s, events=new, current_version=StreamState.NO_STREAM)
    (recorded,) = client.get_stream(s)
    assert recorded.id == new.id
    assert recorded.metadata == b'{"m": 2}'
    assert recorded.commit_position == position
    assert recorded.recorded_at is not None


@case
def read_all_unfiltered_forwards_and_backwards():
    s = stream()
    fill(s, 3)
    everything = list(client.read_all(filter_exclude=()))
    mine = [e for e in everything if e.stream_name == s]
    assert [e.stream_position for e in mine] == [0, 1, 2]
    positions = [e.commit_position for e in everything]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    last = list(client.read_all(backwards=True, limit=1, filter_exclude=()))
    assert last[0].commit_position == positions[-1]


@case
def read_all_from_a_commit_position():
    s = stream()
    fill(s, 3)
    mine = [e for e in client.read_all(filter_exclude=()) if e.stream_name == s]
    after = list(client.read_all(commit_position=mine[1].commit_position, filter_exclude=()))
    assert after[0].id == mine[1].id


@case
def subscribe_to_stream_catches_up_then_receives_new_events():
    s = stream()
    fill(s, 2)
    sub = client.subscribe_to_stream(s, timeout=10)
    got = [next(sub).stream_position, next(sub).stream_position]
    client.append_to_stream(s, events=event(2), current_version=1)
    got.append(next(sub).stream_position)
    sub.stop()
    assert got == [0, 1, 2], got


@case
def subscribe_to_stream_from_a_position_is_exclusive():
    s = stream()
    fill(s, 3)
    sub = client.subscribe_to_stream(s, stream_position=1, timeout=10)
    first = next(sub)
    sub.stop()
    assert first.stream_position == 2


@case
def subscribe_to_all_from_a_commit_position_is_exclusive_and_live():
    s = stream()
    first = client.append_to_stream(s, events=event(0), current_version=StreamState.NO_STREAM)
    sub = client.subscribe_to_all(commit_position=first, filter_exclude=(), timeout=10)
    client.append_to_stream(s, events=event(1), current_version=0)
    received = next(sub)
    sub.stop()
    assert received.stream_name == s and received.stream_position == 1


@case
def subscribe_to_all_reports_caught_up():
    s = stream()
    client.append_to_stream(s, events=event(0), current_version=StreamState.NO_STREAM)
    sub = client.subscribe_to_all(filter_exclude=(), include_caught_up=True, timeout=10)
    seen_mine = False
    for item in sub:
        if getattr(item, "stream_name", None) == s:
            seen_mine = True
        if type(item).__name__ == "CaughtUp":
            break
    sub.stop()
    assert seen_mine


passed = failed = 0
for fn in CASES:
    try:
        fn()
    except Exception:
        failed += 1
        print("FAIL", fn.__name__)
        traceback.print_exc()
    else:
        passed += 1
        print("pass", fn.__name__)
print("python client cases: %d pass, %d fail" % (passed, failed))
client.close()
sys.exit(1 if failed else 0)
