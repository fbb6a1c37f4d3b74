import pytest

from storage.database import Database
from storage.samples import SampleStore


@pytest.fixture
async def store(tmp_path):
    """A SampleStore on a fresh database, closed afterwards."""
    db = Database(tmp_path / "t.sqlite3")
    await db.open()
    yield SampleStore(db)
    await db.close()
