"""Hand-outs through the real store: what is remembered of the seconds filed,
and what is marked as given."""

import logging

import aiosqlite

from storage.database import Database
from storage.handouts import HANDOUT_LOG_S
from storage.records import Sample, device_second
from storage.samples import SampleStore

T = "2025-02-09T18:33:19.500000Z"


def at(seconds: int) -> str:
    """T moved by `seconds`, spelled as the app spells it."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(device_second(T) + seconds, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.500000Z"
    )


async def upload_and_poll(store, d, values=None):
    await store.add(Sample("tok", d, values or {43: 1.0}, "1"))
    return await store.plan_hand_out("tok")


async def filed_seconds(store) -> list[int]:
    async def op(conn: aiosqlite.Connection):
        return [s for (s,) in await conn.execute_fetchall("SELECT second FROM handout_second")]

    return await store.db.read(op)


async def test_a_clock_that_goes_back_is_filed_at_its_own_time_where_that_is_free(store):
    seconds = [0, 5, 10, 15, 20]
    for s in seconds:
        await upload_and_poll(store, at(s))
    back = await upload_and_poll(store, at(-60))  # the phone's clock stepped back a minute
    assert (back.handout.device_time, back.moved_s) == (at(-60), 0)
    taken = await upload_and_poll(store, at(5))  # that second went to an earlier hand-out
    assert (taken.handout.device_time, taken.moved_s) == (at(6)[:19] + ".000000Z", 1)
    ahead = await upload_and_poll(store, at(21))
    assert ahead.handout.device_time == at(21)
    assert sorted(await filed_seconds(store)) == sorted(
        device_second(at(s)) for s in [*seconds, -60, 6, 21]
    )


async def test_a_clock_further_back_than_remembered_goes_after_the_newest(store, caplog):
    await upload_and_poll(store, at(0))
    await upload_and_poll(store, at(HANDOUT_LOG_S + 10))  # trims what lies two days back
    with caplog.at_level(logging.WARNING):
        plan = await upload_and_poll(store, at(5))
    assert plan.second == device_second(at(HANDOUT_LOG_S + 11))
    assert plan.moved_s == HANDOUT_LOG_S + 6
    assert "the phone's clock went back" in caplog.text
    assert device_second(at(0)) not in await filed_seconds(store)  # trimmed
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await upload_and_poll(store, at(6))  # still behind: not logged again
        assert "clock went back" not in caplog.text
        await upload_and_poll(store, at(HANDOUT_LOG_S + 100))
    assert "own time again" in caplog.text


async def test_only_ids_teslalogger_cannot_store_build_no_handout_and_are_given(store):
    plan = await upload_and_poll(store, at(0), {9_000_000: 1.0})
    assert (plan.handout, plan.left_out) == (None, (9_000_000,))
    assert not await store.has_waiting("tok")  # not offered again at every poll
    assert await filed_seconds(store) == []  # no second taken
    plan = await upload_and_poll(store, at(0), {43: 2.0, 9_000_000: 3.0})
    assert plan.handout.values == {43: 2.0} and plan.second == device_second(at(0))
    latest = await store.latest("tok")
    assert latest[9_000_000].value == 3.0  # kept here all the same


async def test_a_database_from_before_the_log_knows_only_the_newest_second(tmp_path):
    path = tmp_path / "t.sqlite3"
    db = Database(path)
    await db.open()
    store = SampleStore(db)
    await upload_and_poll(store, at(0))

    async def forget(conn: aiosqlite.Connection) -> None:  # as migration 4 leaves an old one
        await conn.execute("DELETE FROM handout_second")
        await conn.execute("UPDATE token SET handout_log_from = handed_out_second + 1")

    await db.write(forget)
    plan = await upload_and_poll(store, at(-60))
    assert plan.second == device_second(at(1))  # whether -60 was taken is not known
    await db.close()


async def test_migration_4_starts_the_log_after_the_newest_second(tmp_path):
    import sqlite3

    from storage.schema import MIGRATIONS

    path = tmp_path / "t.sqlite3"
    conn = sqlite3.connect(path)
    for version, script in enumerate(MIGRATIONS[:3], 1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version={version}; COMMIT;")
    conn.execute(
        "INSERT INTO token (token, first_seen_ms, last_seen_ms, handed_out_second)"
        " VALUES ('old', 0, 0, 1000), ('never', 0, 0, NULL)"
    )
    conn.commit()
    conn.close()
    db = Database(path)
    await db.open()

    async def op(c: aiosqlite.Connection):
        return await c.execute_fetchall("SELECT token, handout_log_from FROM token ORDER BY id")

    assert await db.read(op) == [("old", 1001), ("never", None)]
    await db.close()
