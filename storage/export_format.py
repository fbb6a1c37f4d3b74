"""The export's rows and lines, and the values its options take: pure rules
(storage/export.py does the reading and writing)."""

import argparse
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from datetime import time as clock

from storage.catalogue import Catalogue
from storage.readout import catalogue_notes, value_lines
from storage.records import LatestValue, StoredSample

META = ("sample_id", "token", "device_time", "received", "version")


def parse_moment(text: str) -> datetime:
    """A date (midnight) or an ISO-8601 time; without an offset it is local time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time: use 2025-02-09 or 2025-02-09T19:30[+01:00]"
        ) from None
    if len(text) == 10:
        moment = datetime.combine(date.fromisoformat(text), clock())
    return moment if moment.tzinfo else moment.astimezone()


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def parse_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give value ids like 43,442") from None
    if not ids:
        raise argparse.ArgumentTypeError("give at least one value id")
    return ids


def received_text(received_ms: int) -> str:
    return datetime.fromtimestamp(received_ms / 1000).astimezone().isoformat("T", "milliseconds")


def column(value_id: int, names: Catalogue) -> str:
    info = names.info(value_id)
    return f"{info.key} [{info.unit}]" if info.unit else info.key


def csv_header(ids: Iterable[int], names: Catalogue) -> list[str]:
    return [*META, *(column(i, names) for i in ids)]


def meta(sample: StoredSample) -> list[object]:
    return [
        sample.id,
        sample.token,
        sample.device_time.isoformat(),
        received_text(sample.received_ms),
        sample.version,
    ]


def csv_row(sample: StoredSample, values: Mapping[int, float], ids: Iterable[int]) -> list[object]:
    return [*meta(sample), *(repr(values[i]) if i in values else "" for i in ids)]


def json_line(sample: StoredSample, values: Mapping[int, float], names: Catalogue) -> str:
    doc = dict(zip(META, meta(sample), strict=True))
    doc["values"] = {names.info(i).key: values[i] for i in sorted(values, key=names.order)}
    return json.dumps(doc, ensure_ascii=False)


def state_record(token: str, value_id: int, latest: LatestValue, names: Catalogue) -> dict:
    info = names.info(value_id)
    sent = latest.device_time.isoformat() if latest.device_time else None
    return {
        "token": token,
        "id": value_id,
        "key": info.key,
        "name": info.name,
        "value": latest.value,
        "unit": info.unit,
        "sample_id": latest.sample_id,
        "device_time": sent,
    }


def state_text(token: str, current: Mapping[int, LatestValue], names: Catalogue) -> str:
    if not current:
        return f"token {token}: no values yet\n"
    sent = {i: v.device_time for i, v in current.items()}

    def notes(info) -> str:
        moment = sent[info.id]
        when = f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "(upload no longer in the history)"
        return "  ".join(filter(None, (when, catalogue_notes(info))))

    values = {i: v.value for i, v in current.items()}
    lines = value_lines(values, names, notes)
    count = f"{len(values)} value{'s' * (len(values) != 1)}"
    return "\n".join([f"token {token}: {count}, each as last sent", *lines]) + "\n"
