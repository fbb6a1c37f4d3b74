import asyncio

from storage.database import Database
from storage.records import Sample
from storage.samples import SampleStore
from storage.status import main


def test_status_reports_tokens_and_the_mirror(tmp_path, capsys):
    async def fill():
        db = Database(tmp_path / "teslahome.sqlite3")
        await db.open()
        await SampleStore(db).add(Sample("car1", "2025-02-09T19:33:19+01:00", {1: 2.0}))
        await db.close()

    asyncio.run(fill())
    assert main(["--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "token car1: 1 samples" in out and "TeslaLogger has values to fetch" in out
    assert "mirror: 0 waiting, 0 rejected, last delivery never" in out


def test_status_without_a_database_says_so(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path)]) == 1
    assert "no database" in capsys.readouterr().err
