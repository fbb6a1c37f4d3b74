"""The ScanMyTesla capture as the status page shows it (wallbox/api/page.py):
per token the last upload, uploads today, what waits for TeslaLogger; the
mirror's backlog; the last refused request; and a chart of a few values.

Read only when a page asks (once a second while a tab is open, and at once
after an upload: `news`), and then only what is new: the uploads since the
last look, by id (the primary key).
The first look (or one after a long closed tab) counts today's uploads in SQL
and decodes one upload per chart bucket of the window, at most 720 a token,
so opening the page never decodes a day of uploads on mitmproxy's loop; the
values an upload did not carry (uploads are deltas) are carried forward.

The last refusal comes from the capture's own log: ScanMyTesla logs every
refused request once with its reason (scanmytesla.py), and that record is the
one place both live; a handler on its logger keeps the newest.
"""

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from mitmproxy import ctx

from addons.store import Store
from storage.catalogue import catalogue
from storage.codec import decode_values
from storage.database import StorageError
from storage.outbox import Outbox
from storage.records import Sample, StoredSample
from storage.samples import SampleStore
from wallbox.api.page_history import Series

CHART_S = 3 * 3600.0  # the capture chart: the last three hours
CHART_BUCKET_S = 15.0
# Battery power, SoC, cell min/max voltage, battery (cell average) temperature.
CHART_IDS = (43, 23, 5, 7, 2)
WAITING_COUNTED = 1_000  # past this, "1000+": counting further costs a scan at every look
FRESH_S = 0.5  # several tabs share one read
CATCH_UP_MAX = 5_000  # uploads behind (a tab closed a long while): start afresh instead
_NO_TIME = datetime.fromtimestamp(0, UTC)  # the chart needs only the receive time


class LastRefusal(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: dict[str, Any] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "refused" in message or "closed unread" in message:
            self.last = {"at": record.created, "why": message[:300]}


class CaptureState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.refusals = LastRefusal()
        self._logger = logging.getLogger("addons.scanmytesla")
        self._logger.addHandler(self.refusals)
        self.series: dict[str, Series] = {}
        self._latest: dict[str, dict[int, float]] = {}  # carried forward: uploads are deltas
        self._today: dict[str, tuple[str, int]] = {}  # token -> (local date, uploads)
        self._after_id: int | None = None
        self._cached: tuple[float, dict[str, Any]] | None = None
        self.news: Callable[[], None] | None = None  # the page's: an upload is news
        self.polls: Mapping[str, float] = {}  # TeslaLogger's last poll per token (entry.py)
        self._unlisten: Callable[[], None] | None = None
        info = catalogue()
        self.names = tuple(info.info(i).name for i in CHART_IDS)
        self.units = tuple(info.info(i).unit for i in CHART_IDS)

    def done(self) -> None:
        self._logger.removeHandler(self.refusals)
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def _stored(self, _sample: Sample) -> None:
        """Every durable upload, once a page has looked: the next look reads again,
        and open tabs look at once (Page.news costs nothing while none is open)."""
        self._cached = None
        if self.news is not None:
            self.news()

    async def __call__(self) -> dict[str, Any]:
        now = time.time()
        if self._cached is not None and now - self._cached[0] < FRESH_S:
            return self._cached[1]
        try:
            samples = await self.store.samples()
            if self._unlisten is None:
                self._unlisten = samples.on_stored(self._stored)
            state = await self._read(samples, now)
        except StorageError as e:
            state = {"tokens": [], "mirror": None, "error": str(e)}
        state["refused"] = self.refusals.last
        state["upstream"] = ctx.options.smt_upstream
        state["units"] = list(self.units)
        self._cached = (now, state)
        return state

    async def _read(self, samples: SampleStore, now: float) -> dict[str, Any]:
        top = await samples.db.read(_newest_id)
        if self._after_id is None or top - self._after_id > CATCH_UP_MAX:
            await self._fill(samples, now, top)
        else:
            await self._take(samples.history(after_id=self._after_id))
        tokens = await samples.db.read(_tokens)
        today = datetime.fromtimestamp(now).date().isoformat()
        for token in tokens:
            day, count = self._today.get(token["token"], (today, 0))
            token["uploads_today"] = count if day == today else 0
            token["last_poll"] = self.polls.get(token["token"])
        mirror = None
        if ctx.options.smt_upstream == "mirror":
            status = await Outbox(samples.db).status()
            mirror = {
                "waiting": status.waiting,
                "rejected": status.rejected,
                "oldest_waiting": _s(status.oldest_waiting_ms),
                "last_delivered": _s(status.last_delivered_ms),
                "last_error": status.last_error,
                "last_error_at": _s(status.last_error_ms),
            }
        return {"tokens": tokens, "mirror": mirror, "series": self.series}

    async def _fill(self, samples: SampleStore, now: float, top: int) -> None:
        """Start afresh: today's count per token, one upload per bucket for the charts."""
        midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0)
        today = midnight.date().isoformat()
        counts = await samples.db.read(_counter(int(midnight.timestamp() * 1000), top))
        self._today = {token: (today, n) for token, n in counts}
        self.series, self._latest = {}, {}
        since_ms = int((now - CHART_S) * 1000)
        bucket_ms = int(CHART_BUCKET_S * 1000)
        await self._take(
            _stored(
                samples.db.rows(
                    "SELECT sample.id, token.token, received_ms, vals"
                    " FROM sample JOIN token ON token.id = sample.token_id WHERE sample.id IN"
                    " (SELECT max(id) FROM sample WHERE received_ms >= ? AND id <= ?"
                    "  GROUP BY token_id, received_ms / ?) ORDER BY sample.id",
                    (since_ms, top, bucket_ms),
                )
            ),
            counted=False,
        )
        self._after_id = top

    async def _take(self, uploads, *, counted: bool = True) -> None:
        async for sample in uploads:
            self._after_id = sample.id
            at = sample.received_ms / 1000
            day = datetime.fromtimestamp(at).date().isoformat()
            if counted:
                seen_day, count = self._today.get(sample.token, (day, 0))
                self._today[sample.token] = (day, count + 1 if seen_day == day else 1)
            latest = self._latest.setdefault(sample.token, {})
            latest.update((i, v) for i, v in sample.values.items() if i in CHART_IDS)
            series = self.series.setdefault(
                sample.token, Series(self.names, bucket_s=CHART_BUCKET_S, keep_s=CHART_S)
            )
            series.add(at, [_rounded(latest.get(i)) for i in CHART_IDS])


async def _stored(rows) -> AsyncIterator[StoredSample]:
    async for sid, token, received_ms, vals in rows:
        yield StoredSample(sid, token, received_ms, _NO_TIME, "", decode_values(vals))


def _counter(since_ms: int, top: int):
    async def count(conn: aiosqlite.Connection) -> list[tuple[str, int]]:
        async with conn.execute(
            "SELECT token.token, count(*) FROM sample JOIN token ON token.id = sample.token_id"
            " WHERE received_ms >= ? AND sample.id <= ? GROUP BY token.token",
            (since_ms, top),
        ) as cursor:
            return [tuple(row) async for row in cursor]

    return count


async def _newest_id(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT coalesce(max(id), 0) FROM sample") as cursor:
        (top,) = await cursor.fetchone()  # type: ignore[misc]
    return top


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _s(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


async def _tokens(conn: aiosqlite.Connection) -> list[dict[str, Any]]:
    """Each token's last upload and what TeslaLogger has not fetched, counted up to a bound."""
    async with conn.execute(
        "SELECT token.token, last_seen_ms, handed_out_upto,"
        " (SELECT count(*) FROM (SELECT 1 FROM sample WHERE sample.id > handed_out_upto"
        "   AND sample.token_id = token.id LIMIT ?)),"
        " (SELECT received_ms FROM sample WHERE sample.id = handed_out_upto)"
        " FROM token ORDER BY token.id",
        (WAITING_COUNTED,),
    ) as cursor:
        return [
            {
                "token": token,
                "last_upload": _s(last_seen),
                "waiting": waiting,
                "waiting_more": waiting >= WAITING_COUNTED,
                "fetched_upto": _s(fetched_ms) if upto else None,
            }
            async for token, last_seen, upto, waiting, fetched_ms in cursor
        ]
