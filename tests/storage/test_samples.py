import asyncio
import math
import time
from datetime import timedelta

from storage.database import Database, StorageError
from storage.records import LatestValue, Sample, parse_device_time
from storage.samples import SampleStore

D0 = "2025-02-09T19:33:19.697553+01:00"


def sample(values, d=D0, token="tok"):
    return Sample(token=token, device_time=d, values=values, version="1")


async def test_nothing_waiting_for_an_unknown_token(store):
    assert not await store.has_waiting("nobody")
    assert await store.hand_out("nobody") is None


async def test_one_upload_is_handed_out_once(store):
    sid = await store.add(sample({415: 458.5, 442: -1.76}))
    assert await store.has_waiting("tok")
    handout = await store.hand_out("tok")
    assert handout.sample_id == sid
    assert handout.device_time == D0
    assert handout.values == {415: 458.5, 442: -1.76}
    assert not await store.has_waiting("tok")
    assert await store.hand_out("tok") is None


async def test_a_poll_right_after_an_upload_asks_the_database_nothing(store, monkeypatch):
    """TeslaLogger's poll after an upload: the store knows values wait, and goes
    straight to the hand-out; once handed out, it asks the database again."""
    await store.add(sample({415: 458.5}))
    await store.add(sample({}, token="empty"))  # no values: nothing to hand out

    async def no_reads(op):
        raise AssertionError("read the database")

    real_read = store.db.read
    monkeypatch.setattr(store.db, "read", no_reads)
    assert await store.has_waiting("tok")
    assert (await store.hand_out("tok")).values == {415: 458.5}
    monkeypatch.setattr(store.db, "read", real_read)
    assert not await store.has_waiting("tok")
    assert not await store.has_waiting("empty")


async def test_after_a_restart_the_database_says_what_waits(tmp_path):
    db = Database(tmp_path / "t.sqlite3")
    await db.open()
    await SampleStore(db).add(sample({1: 1.5}))
    await db.close()
    db = Database(tmp_path / "t.sqlite3")
    await db.open()
    again = SampleStore(db)
    assert await again.has_waiting("tok")
    assert (await again.hand_out("tok")).values == {1: 1.5}
    assert not await again.has_waiting("tok")
    await db.close()


async def test_waiting_deltas_merge_newest_wins_into_one_handout(store):
    await store.add(sample({1: 1.0, 2: 2.0}, "2025-02-09T19:33:19+01:00"))
    await store.add(sample({2: 20.0, 3: 3.0}, "2025-02-09T19:33:20+01:00"))
    last = await store.add(sample({3: 30.0}, "2025-02-09T19:33:21+01:00"))
    handout = await store.hand_out("tok")
    assert handout.values == {1: 1.0, 2: 20.0, 3: 30.0}
    assert handout.sample_id == last
    assert handout.device_time == "2025-02-09T19:33:21+01:00"


async def test_backlog_is_bounded_by_distinct_ids_not_by_uploads(store):
    for i in range(500):
        await store.add(sample({1: float(i), 2: float(-i)}))
    handout = await store.hand_out("tok")
    assert handout.values == {1: 499.0, 2: -499.0}
    assert await store.hand_out("tok") is None


async def test_only_values_changed_since_the_last_handout_are_handed_out(store):
    await store.add(sample({1: 1.0, 2: 2.0}, "2025-02-09T19:33:19+01:00"))
    await store.hand_out("tok")
    await store.add(sample({2: 5.0}, "2025-02-09T19:33:25+01:00"))
    assert (await store.hand_out("tok")).values == {2: 5.0}
    latest = await store.latest("tok")
    assert {k: v.value for k, v in latest.items()} == {1: 1.0, 2: 5.0}


async def test_tokens_are_kept_apart(store):
    await store.add(sample({1: 1.0}, token="car1"))
    await store.add(sample({1: 2.0}, token="car2"))
    assert (await store.hand_out("car2")).values == {1: 2.0}
    assert (await store.hand_out("car1")).values == {1: 1.0}
    assert await store.tokens() == ["car1", "car2"]


async def test_upload_without_finite_values_is_history_only(store):
    await store.add(sample({}))
    assert await store.count() == 1
    assert not await store.has_waiting("tok")


async def test_same_second_handouts_are_stamped_one_second_apart(store):
    await store.add(sample({1: 1.0}, "2025-02-09T19:33:19.100000+01:00"))
    first = await store.hand_out("tok")
    await store.add(sample({1: 2.0}, "2025-02-09T19:33:19.900000+01:00"))
    second = await store.hand_out("tok")
    assert first.device_time == "2025-02-09T19:33:19.100000+01:00"
    # Issue 17: the bumped stamp keeps the app's fraction format (it was "19:33:20+01:00").
    assert second.device_time == "2025-02-09T19:33:20.000000+01:00"


async def test_history_keeps_every_upload_with_its_device_time(store):
    await store.add(sample({1: 1.0}, "2025-02-09T19:33:19.697553+01:00"), received_ms=1000)
    await store.add(sample({2: 2.0}, "2025-02-09T18:33:20Z", token="other"), received_ms=2000)
    rows = [s async for s in store.history()]
    assert [r.values for r in rows] == [{1: 1.0}, {2: 2.0}]
    assert rows[0].device_time.isoformat() == "2025-02-09T19:33:19.697553+01:00"
    assert rows[1].device_time.utcoffset() == timedelta(0)
    assert [r.token async for r in store.history(token="other")] == ["other"]
    assert [r.id async for r in store.history(since_ms=1500)] == [rows[1].id]


async def test_purge_drops_old_history_but_keeps_what_teslalogger_has_not_fetched(store):
    now = int(time.time() * 1000)
    for i in range(12):
        await store.add(sample({1: float(i)}), received_ms=now - 10_000 + i)
    await store.add(sample({2: 2.0}), received_ms=now)
    assert await store.purge(now - 1, chunk=5) == 12
    assert await store.count() == 1
    assert (await store.hand_out("tok")).values == {1: 11.0, 2: 2.0}


async def test_everything_survives_a_reopen(tmp_path):
    db = Database(tmp_path / "t.sqlite3")
    await db.open()
    await SampleStore(db).add(sample({1: 1.5}))
    for closed in db.stop():  # as mitmproxy's done hook does
        await closed
    db = Database(tmp_path / "t.sqlite3")
    await db.open()
    again = SampleStore(db)
    assert (await again.hand_out("tok")).values == {1: 1.5}
    await db.close()


async def test_concurrent_uploads_share_commits_and_all_land(store):
    ids = await asyncio.gather(*(store.add(sample({i: float(i)})) for i in range(200)))
    assert len(set(ids)) == 200
    assert store.commits < 200  # grouped
    assert len((await store.hand_out("tok")).values) == 200


async def test_ids_are_never_reused_after_the_history_is_emptied(tmp_path):
    """Hand-out marks compare ids: a reused id would hide new values from TeslaLogger."""
    path = tmp_path / "t.sqlite3"
    db = Database(path)
    await db.open()
    store = SampleStore(db)
    for n in range(3):
        await store.add(sample({1: float(n)}), received_ms=1000 + n)
    await store.hand_out("tok")
    assert await store.purge(10_000) == 3
    await db.close()
    db = Database(path)
    await db.open()
    store = SampleStore(db)
    assert await store.add(sample({1: 9.0}), received_ms=20_000) == 4
    assert (await store.hand_out("tok")).values == {1: 9.0}
    await db.close()


async def test_an_upload_that_fails_does_not_take_its_batch_with_it(store):
    # NaN is stored as NULL, which `latest.value` refuses (decode_upload drops NaN).
    first, second, third = await asyncio.gather(
        store.add(sample({1: 1.0})),
        store.add(sample({2: math.nan})),
        store.add(sample({3: 3.0})),
        return_exceptions=True,
    )
    assert isinstance(second, StorageError) and "NOT NULL constraint" in str(second)
    assert isinstance(first, int) and isinstance(third, int)
    assert (await store.hand_out("tok")).values == {1: 1.0, 3: 3.0}


async def test_latest_is_the_current_state_with_the_time_each_value_was_sent(store):
    first = await store.add(sample({1: 1.0, 2: 2.0}, "2025-02-09T19:33:19+01:00"), received_ms=1)
    newest = await store.add(sample({2: 5.0}, "2025-02-09T19:33:25+01:00"), received_ms=2)
    state = await store.latest("tok")
    assert state[1] == LatestValue(1.0, first, parse_device_time("2025-02-09T19:33:19+01:00"))
    assert state[2] == LatestValue(5.0, newest, parse_device_time("2025-02-09T19:33:25+01:00"))
    await store.purge(2)  # the first upload leaves the history; its value stays current
    assert (await store.latest("tok"))[1] == LatestValue(1.0, first, None)
    assert await store.latest("nobody") == {}


async def test_count_takes_the_filters_of_history(store):
    await store.add(sample({1: 1.0}), received_ms=1000)
    await store.add(sample({1: 2.0}, token="other"), received_ms=2000)
    await store.add(sample({1: 3.0}), received_ms=3000)
    assert await store.count() == 3
    assert await store.count(token="tok") == 2
    assert await store.count(since_ms=1500, until_ms=3000) == 1
    assert await store.count(token="tok", since_ms=1500) == 1


async def test_one_batch_of_many_rows_keeps_the_newest_value_of_each_id(store):
    """A batch is one multi-row statement per table, split past ROWS_PER_STATEMENT rows."""
    from storage.sample_batch import ROWS_PER_STATEMENT

    count = 3 * ROWS_PER_STATEMENT // 400 + 1
    uploads = [sample({v: float(n * 1000 + v) for v in range(400)}) for n in range(count)]
    commits = store.commits
    ids = await asyncio.gather(*(store.add(u) for u in uploads))
    assert store.commits - commits <= 2  # the first alone, the rest together
    latest = await store.latest("tok")
    assert {k: v.value for k, v in latest.items()} == {
        v: float((count - 1) * 1000 + v) for v in range(400)
    }
    assert {v.sample_id for v in latest.values()} == {ids[-1]}
    assert [s.values for s in [s async for s in store.history()]] == [u.values for u in uploads]
