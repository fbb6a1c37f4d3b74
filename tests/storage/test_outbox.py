import math

import pytest

from storage.database import StorageError
from storage.outbox import Outbox
from storage.records import Sample
from storage.sample_batch import Forward
from storage.samples import SampleStore

HEADERS = [("User-Agent", "Dalvik/2.1.0"), ("Content-Type", "application/x-www-form-urlencoded")]


def sample(n: int) -> Sample:
    return Sample("tok", f"2025-02-09T19:33:{n:02d}+01:00", {1: float(n)})


async def enqueue_with(db, n: int) -> int:
    forward = Forward("/insert_scanmytesla.php", HEADERS, b"m=%d" % n)
    return await SampleStore(db).add(sample(n), forward=forward)


async def test_parcels_come_out_in_arrival_order_with_their_exact_bytes(db):
    ids = [await enqueue_with(db, n) for n in range(3)]
    parcels = await Outbox(db).next()
    assert [p.body for p in parcels] == [b"m=0", b"m=1", b"m=2"]
    assert [p.sample_id for p in parcels] == ids
    assert parcels[0].headers == HEADERS


async def test_sample_and_parcel_land_together_or_not_at_all(db):
    # The sample's row goes in first; its NaN value then fails the transaction.
    broken = Sample("tok", "2025-02-09T19:33:01+01:00", {1: math.nan})
    forward = Forward("/insert_scanmytesla.php", HEADERS, b"m=1")
    with pytest.raises(StorageError, match="NOT NULL"):
        await SampleStore(db).add(broken, forward=forward)
    assert await SampleStore(db).count() == 0
    assert await Outbox(db).next() == []


async def test_delivered_and_rejected_parcels_leave_the_queue(db):
    for n in range(3):
        await enqueue_with(db, n)
    box = Outbox(db)
    first, second, third = await box.next()
    await box.delivered(first.id)
    await box.rejected(second.id, "ERROR: nope")
    await box.failed("no answer: refused")
    assert [p.id for p in await box.next()] == [third.id]
    status = await box.status()
    assert (status.waiting, status.rejected) == (1, 1)
    assert status.last_error == "no answer: refused"
    assert status.last_delivered_ms is not None
    assert status.oldest_waiting_ms is not None
