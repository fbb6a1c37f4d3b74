import argparse
import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.catalogue import catalogue
from storage.database import DB_NAME, Database
from storage.export import Progress, main
from storage.export_format import (
    column,
    csv_header,
    csv_row,
    json_line,
    parse_ids,
    parse_moment,
    state_text,
)
from storage.records import LatestValue, Sample, StoredSample
from storage.samples import SampleStore

T0 = 1_739_125_999_000  # 2025-02-09T18:33:19Z, in ms


async def fill(path, samples):
    db = Database(path)
    await db.open()
    store = SampleStore(db)
    for received, sample in samples:
        await store.add(sample, received_ms=received)
    await db.close()


@pytest.fixture
def data_dir(tmp_path):
    """Two cars: car1 uploads three times (deltas), car2 once."""
    samples = [
        (T0, Sample("car1", "2025-02-09T19:33:19.5+01:00", {43: 1.25, 442: 50.0}, "1")),
        (T0 + 1000, Sample("car1", "2025-02-09T19:33:20.5+01:00", {43: 2.5, 999: 7.0}, "1")),
        (T0 + 2000, Sample("car2", "2025-02-09T18:33:21Z", {2: 21.5}, "1")),
        (T0 + 3000, Sample("car1", "2025-02-09T19:33:22.5+01:00", {442: 52.0}, "1")),
    ]
    asyncio.run(fill(tmp_path / DB_NAME, samples))
    return tmp_path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_has_named_columns_in_catalogue_order_and_exact_values(capsys, data_dir):
    code, out, _ = run(capsys, "--data-dir", str(data_dir))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == [
        "sample_id", "token", "device_time", "received", "version",
        "cell_temp_avg [°C]", "battery_power [kW]", "speed [km/h]", "id_999",
    ]  # fmt: skip
    assert rows[1][:3] == ["1", "car1", "2025-02-09T19:33:19.500000+01:00"]
    assert rows[1][5:] == ["", "1.25", "50.0", ""]  # deltas: only what the upload carried
    assert rows[2][5:] == ["", "2.5", "", "7.0"]
    assert rows[3][1] == "car2" and rows[3][5:] == ["21.5", "", "", ""]
    assert len(rows) == 5


def test_fill_carries_each_cars_values_forward(capsys, data_dir):
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "--fill")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[4][1] == "car1" and rows[4][5:] == ["", "2.5", "52.0", "7.0"]
    assert rows[3][5:] == ["21.5", "", "", ""]  # car2 does not inherit car1's values


def test_jsonl_has_named_keys(capsys, data_dir):
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "--format", "jsonl", "--token", "car1")
    docs = [json.loads(line) for line in out.splitlines()]
    assert [d["sample_id"] for d in docs] == [1, 2, 4]
    assert docs[0]["values"] == {"battery_power": 1.25, "speed": 50.0}
    assert docs[1]["values"] == {"battery_power": 2.5, "id_999": 7.0}
    assert docs[0]["device_time"] == "2025-02-09T19:33:19.500000+01:00"
    assert datetime.fromisoformat(docs[0]["received"]).timestamp() == T0 / 1000


def test_time_range_and_ids(capsys, data_dir):
    since = datetime.fromtimestamp((T0 + 1000) / 1000, UTC).isoformat()
    until = datetime.fromtimestamp((T0 + 3000) / 1000, UTC).isoformat()
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "--from", since, "--to", until)
    assert [r[0] for r in csv.reader(io.StringIO(out))][1:] == ["2", "3"]  # --to is exclusive
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "--ids", "442")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][5:] == ["speed [km/h]"]
    # only the uploads that carried it
    assert [(r[0], r[5]) for r in rows[1:]] == [("1", "50.0"), ("4", "52.0")]


def test_output_file_and_progress_bar(capsys, data_dir, tmp_path):
    target = tmp_path / "out.csv"
    code, out, err = run(capsys, "--data-dir", str(data_dir), "-o", str(target), "--progress")
    assert code == 0 and out == ""
    assert len(target.read_text().splitlines()) == 5
    assert err.endswith("exporting 100% |" + "#" * Progress.WIDTH + "| 4/4\n")
    _, _, err = run(capsys, "--data-dir", str(data_dir), "-o", str(target), "--no-progress")
    assert err == ""


def test_state_prints_the_newest_value_of_every_id(capsys, data_dir):
    code, out, _ = run(capsys, "--data-dir", str(data_dir), "--state", "--token", "car1")
    assert code == 0
    assert out.startswith("token car1: 3 values, each as last sent\n")
    (speed,) = [line for line in out.splitlines() if " Speed " in line]
    assert " ".join(speed.split()).startswith("442 Speed 52 km/h 2025-02-09 19:33:22 SMTSpeed")
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "--state")
    assert "token car1:" in out and "token car2: 1 value," in out


def test_state_as_json_lines(capsys, data_dir):
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "--state", "--format", "jsonl")
    docs = [json.loads(line) for line in out.splitlines()]
    assert [(d["token"], d["id"]) for d in docs] == [
        ("car1", 43), ("car1", 442), ("car1", 999), ("car2", 2)
    ]  # fmt: skip
    assert docs[1] | {"sample_id": 0} == {
        "token": "car1", "id": 442, "key": "speed", "name": "Speed", "value": 52.0,
        "unit": "km/h", "sample_id": 0, "device_time": "2025-02-09T19:33:22.500000+01:00",
    }  # fmt: skip


def test_catalogue_listing(capsys):
    code, out, _ = run(capsys, "--catalogue")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0][:4] == ["id", "key", "name", "unit"]
    assert ["43", "battery_power", "Battery power", "kW"] in [r[:4] for r in rows]


def test_a_missing_database_is_a_clear_error_and_no_file_is_left(capsys, tmp_path):
    target = tmp_path / "out.csv"
    code, out, err = run(capsys, "--data-dir", str(tmp_path / "nope"), "-o", str(target))
    assert code == 2 and out == ""
    assert "no database at" in err and "--data-dir" in err
    assert not target.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--state", "--format", "csv"], "--state prints text or jsonl"),
        (["--format", "text"], "csv or jsonl"),
        (["--from", "2025-02-10", "--to", "2025-02-09"], "--to must be later"),
        (["--from", "yesterday"], "is not a date or time"),
        (["--ids", "speed"], "give value ids like 43,442"),
        (["--state", "--catalogue"], "not allowed with"),
    ],
)
def test_bad_arguments_say_what_to_do(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_parse_moment():
    local = datetime(2025, 2, 9).astimezone().tzinfo
    assert parse_moment("2025-02-09") == datetime(2025, 2, 9, tzinfo=local)
    assert parse_moment("2025-02-09T19:30+01:00") == datetime(
        2025, 2, 9, 19, 30, tzinfo=timezone(timedelta(hours=1))
    )
    assert parse_moment("2025-02-09T19:30").tzinfo is not None  # local time
    with pytest.raises(argparse.ArgumentTypeError):
        parse_moment("9.2.2025")


def test_parse_ids():
    assert parse_ids("43, 442,") == [43, 442]
    with pytest.raises(argparse.ArgumentTypeError, match="at least one"):
        parse_ids(",")


def test_columns_rows_and_lines():
    names = catalogue()
    assert column(43, names) == "battery_power [kW]"
    assert column(45, names) == "hvac_on"  # no unit
    assert column(999, names) == "id_999"
    assert csv_header([43], names)[-1] == "battery_power [kW]"
    sample = StoredSample(
        7, "car", T0, datetime(2025, 2, 9, 19, 33, 19, tzinfo=timezone(timedelta(hours=1))), "1"
    )
    row = csv_row(sample, {43: 0.1 + 0.2}, [43, 442])
    assert row[0] == 7 and row[2] == "2025-02-09T19:33:19+01:00"
    assert row[5:] == ["0.30000000000000004", ""]  # exact, not rounded
    assert json.loads(json_line(sample, {442: 1.0, 43: 2.0}, names))["values"] == {
        "battery_power": 2.0,
        "speed": 1.0,
    }


def test_progress_line():
    stream = io.StringIO()
    progress = Progress(4, stream, enabled=True)
    progress.step()
    assert progress.line() == "exporting  25% |" + "#" * 8 + " " * 22 + "| 1/4"
    assert Progress(0, stream, enabled=True).enabled is False
    quiet = io.StringIO()
    silent = Progress(4, quiet, enabled=False)
    silent.step()
    silent.finish()
    assert quiet.getvalue() == ""


def test_state_text_for_a_value_whose_upload_was_purged():
    text = state_text("car", {43: LatestValue(1.5, 3, None)}, catalogue())
    assert "(upload no longer in the history)" in text
    assert state_text("car", {}, catalogue()) == "token car: no values yet\n"
