"""When a batch commits: the pure rule, then SampleStore gathering through it."""

import asyncio

from storage import gathering
from storage.gathering import MAX_S, QUIET_S, RECENT_S, Uploaders, commit_now, due
from storage.records import Sample


def test_a_lone_uploader_never_waits():
    assert commit_now(waiting=1, recent_uploaders=1, waited_s=0.0, quiet_s=0.0)


def test_every_recent_uploader_waiting_means_nobody_else_can_come():
    assert commit_now(waiting=3, recent_uploaders=3, waited_s=0.0, quiet_s=0.0)
    assert not commit_now(waiting=2, recent_uploaders=3, waited_s=0.0, quiet_s=0.0)


def test_a_batch_that_nobody_joins_for_a_while_goes():
    assert not commit_now(waiting=1, recent_uploaders=20, waited_s=0.0, quiet_s=QUIET_S / 2)
    assert commit_now(waiting=1, recent_uploaders=20, waited_s=QUIET_S, quiet_s=QUIET_S)


def test_uploads_that_keep_joining_hold_the_batch_only_up_to_the_limit():
    # A slow machine: every few milliseconds another upload joins, never all of them.
    assert not commit_now(waiting=15, recent_uploaders=20, waited_s=MAX_S / 2, quiet_s=0.002)
    assert commit_now(waiting=15, recent_uploaders=20, waited_s=MAX_S, quiet_s=0.002)


def test_a_waiting_batch_is_asked_again_when_it_would_go():
    assert due(first=10.0, last=10.0) == 10.0 + QUIET_S
    assert due(first=10.0, last=10.0 + MAX_S) == 10.0 + MAX_S
    for first, last in [(10.0, 10.0 + MAX_S / 2), (10.0, 10.0 + MAX_S - QUIET_S / 2)]:
        moment = due(first, last)
        early, late = moment - 1e-6, moment + 1e-6
        assert not commit_now(2, 20, waited_s=early - first, quiet_s=early - last)
        assert commit_now(2, 20, waited_s=late - first, quiet_s=late - last)


def test_uploaders_count_each_connection_once_and_forget_quiet_ones():
    seen = Uploaders()
    seen.arrived("a", 0.0)
    seen.arrived("b", 0.01)
    seen.arrived("a", 0.02)  # again: still one connection
    assert seen.recent(0.02) == 2
    assert seen.recent(0.005 + RECENT_S) == 2
    assert seen.recent(0.015 + RECENT_S) == 1  # b has gone quiet, a not yet
    assert seen.recent(0.03 + RECENT_S) == 0


def test_uploaders_stay_bounded_with_endless_new_connections():
    seen = Uploaders()
    for i in range(10_000):
        seen.arrived(i, 0.0)
    assert seen.recent(0.0) == 4096


def gather_times(monkeypatch, *, quiet=60.0, limit=60.0, recent=60.0) -> None:
    """The rule's times for one test: QUIET_S, MAX_S and RECENT_S (60 s: never)."""
    monkeypatch.setattr(gathering, "QUIET_S", quiet)
    monkeypatch.setattr(gathering, "MAX_S", limit)
    monkeypatch.setattr(gathering, "RECENT_S", recent)


def sample(i: int) -> Sample:
    return Sample(token="tok", device_time=f"2025-02-09T18:00:{i:02d}Z", values={1: i}, version="1")


async def test_one_connection_is_committed_at_once(store, monkeypatch):
    gather_times(monkeypatch)
    for i in range(3):
        await asyncio.wait_for(store.add(sample(i), source="phone"), 5)
    assert store.db.commits == 3


async def test_a_batch_waits_for_the_other_connections_and_shares_their_commit(store, monkeypatch):
    gather_times(monkeypatch)
    await store.add(sample(0), source="a")  # alone so far: at once
    commits = store.db.commits
    b = asyncio.create_task(store.add(sample(1), source="b"))
    await asyncio.sleep(0.1)
    assert not b.done()  # a uploaded lately and will be back
    a = await asyncio.wait_for(store.add(sample(2), source="a"), 5)
    assert await asyncio.wait_for(b, 5) == a - 1
    assert store.db.commits == commits + 1


async def test_a_connection_that_does_not_come_back_delays_the_batch_only_until_quiet(
    store, monkeypatch
):
    gather_times(monkeypatch, quiet=0.2)
    await store.add(sample(0), source="a")
    b = asyncio.create_task(store.add(sample(1), source="b"))
    await asyncio.sleep(0.05)
    assert not b.done()
    await asyncio.wait_for(b, 5)
    assert (await store.hand_out("tok")).values == {1: 1}


async def test_an_upload_without_a_source_takes_the_batch_along_at_once(store, monkeypatch):
    gather_times(monkeypatch)
    await store.add(sample(0), source="a")
    b = asyncio.create_task(store.add(sample(1), source="b"))
    await asyncio.sleep(0.05)
    await asyncio.wait_for(store.add(sample(2)), 5)  # e.g. a tool, not a phone
    await asyncio.wait_for(b, 5)


async def test_an_upload_that_joins_keeps_the_batch_gathering(store, monkeypatch):
    gather_times(monkeypatch, quiet=0.2)
    await store.add(sample(0), source="a")  # alone so far: at once, and a is expected back
    commits = store.db.commits
    b = asyncio.create_task(store.add(sample(1), source="b"))
    await asyncio.sleep(0.15)
    c = asyncio.create_task(store.add(sample(2), source="c"))
    await asyncio.sleep(0.15)  # b came 0.3 s ago, past QUIET_S; c only 0.15 s ago
    assert not b.done()
    assert await asyncio.wait_for(c, 5) == await b + 1
    assert store.db.commits == commits + 1


async def test_uploads_that_keep_joining_are_committed_by_the_limit(store, monkeypatch):
    gather_times(monkeypatch, limit=0.3)
    await store.add(sample(0), source="a")  # alone so far: at once
    commits = store.db.commits
    loop = asyncio.get_running_loop()
    started = loop.time()
    b = asyncio.create_task(store.add(sample(1), source="b"))
    await asyncio.sleep(0.1)
    c = asyncio.create_task(store.add(sample(2), source="c"))
    await asyncio.wait_for(asyncio.gather(b, c), 5)  # a never comes back
    assert loop.time() - started >= 0.3
    assert store.db.commits == commits + 1


async def test_a_batch_stops_waiting_for_a_connection_that_closed(store, monkeypatch):
    gather_times(monkeypatch)
    await store.add(sample(0), source="a")  # alone so far: at once
    b = asyncio.create_task(store.add(sample(1), source="b"))
    await asyncio.sleep(0.05)
    assert not b.done()  # a is expected back
    store.source_closed("a")
    await asyncio.wait_for(b, 5)


def test_a_closed_connection_is_no_longer_counted():
    seen = Uploaders()
    seen.arrived("a", 0.0)
    seen.arrived("b", 0.0)
    seen.left("a")
    seen.left("never seen")
    assert seen.recent(0.0) == 1
