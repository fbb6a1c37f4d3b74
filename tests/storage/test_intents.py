from storage.database import Database
from storage.intents import IntentStore, StoredIntent


async def test_intents_round_trip_and_survive_reopening(tmp_path, db):
    store = IntentStore(db)
    assert await store.load_all() == {}
    await store.save("VIN1", StoredIntent(True, 16, 40, ("charging", "limit"), 1000))
    await store.save("VIN2", StoredIntent(None, None, None))
    await store.save("VIN1", StoredIntent(False, 8, 35, (), 2000))  # newest wins
    await db.close()
    reopened = Database(tmp_path / "t.sqlite3")
    await reopened.open()
    try:
        rows = await IntentStore(reopened).load_all()
    finally:
        await reopened.close()
    assert rows["VIN1"] == StoredIntent(False, 8, 35, (), 2000)
    assert rows["VIN2"].charging is None and rows["VIN2"].updated_ms > 0
