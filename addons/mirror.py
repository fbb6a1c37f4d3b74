"""Mirror mode (`smt_upstream=mirror`): store-and-forward to the real teslalogger.de.

The phone is answered from the local store at local speed; this addon
delivers the stored uploads upstream in the background, one at a time and in
arrival order, byte for byte as the phone sent them. A failed delivery is
retried with exponential backoff (capped by `smt_upstream_retry_max`) until it
goes through, across restarts, however long the outage; an answer that refuses
the upload itself parks it (see mirror_rules) and delivery moves on.
"""

import asyncio
import logging
import time
from collections.abc import Sequence

import aiohttp
from mitmproxy import ctx, exceptions

from addons import smt_wire as wire
from addons.intercept import HOST, Upstream
from addons.mirror_rules import Outcome, Verdict, backoff, judge_check_token, judge_insert
from addons.options import checked
from addons.store import Store
from storage.database import StorageError
from storage.outbox import Outbox
from wallbox.supervisor import Crash, Supervised

logger = logging.getLogger(__name__)

CHECK_TOKEN_TIMEOUT_S = 5.0
DELIVERY_TIMEOUT_S = 30.0
STATUS_LOG_EVERY_S = 600.0
BATCH = 100
# Connection-level headers belong to the phone's hop, not to the delivery.
_HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "content-length", "te"}
)


def upstream_url(upstream: Upstream, path: str) -> str:
    host = f"[{upstream.host}]" if ":" in upstream.host else upstream.host
    return f"{upstream.scheme}://{host}:{upstream.port}{path}"


def delivery_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    kept = {name: value for name, value in headers if name.lower() not in _HOP_HEADERS}
    if not any(name.lower() == "host" for name in kept):
        kept["Host"] = HOST
    return kept


class Mirror:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._delivery: Supervised | None = None
        self._session: aiohttp.ClientSession | None = None
        self._wake = asyncio.Event()
        self._running = False
        self.failures = 0  # in a row
        self._upstream: Upstream | None = None  # parsed once per change of smt_upstream_url
        self._last_status_log = 0.0
        self._closing: asyncio.Future[None] | None = None
        self._mode = "off"  # smt_upstream, read once per change: active() runs per upload

    def load(self, loader) -> None:
        loader.add_option(
            "smt_upstream_retry_max",
            int,
            300,
            "Mirror mode: longest wait in seconds between delivery attempts while "
            "teslalogger.de is unreachable (the wait doubles from 1 s up to this).",
        )

    def configure(self, updated: set[str]) -> None:
        if "smt_upstream" in updated:
            self._mode = ctx.options.smt_upstream
        if "smt_upstream_url" in updated:
            self._upstream = checked(updated, "smt_upstream_url", Upstream.parse)
        if "smt_upstream_retry_max" in updated and ctx.options.smt_upstream_retry_max < 1:
            raise exceptions.OptionsError("smt_upstream_retry_max must be at least 1 second")
        if self._running and "smt_upstream" in updated:
            self._apply()

    def running(self) -> None:
        self._running = True
        self._apply()

    # Methods, not properties: mitmproxy reads every attribute of an addon when
    # it registers it, before the options exist.
    def active(self) -> bool:
        return self._mode == "mirror"

    def _apply(self) -> None:
        if self.active() and self._delivery is None:
            self._delivery = Supervised(
                "mirror delivery",
                self._deliver_forever,
                on_crash=self._crashed,
                backoff_max_s=ctx.options.smt_upstream_retry_max,
            )
            self._delivery.start()
        elif not self.active() and self._delivery is not None:
            self._delivery.stop()
            self._delivery = None

    def wake(self) -> None:
        """A new upload is in the outbox."""
        self._wake.set()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        return self._session

    async def post(
        self, path: str, headers: Sequence[tuple[str, str]], body: bytes, limit_s: float
    ) -> tuple[int | None, bytes, str | None]:
        """(status, body, None), or (None, b"", why) when there was no answer."""
        upstream = self._upstream or Upstream.parse(ctx.options.smt_upstream_url)
        sent = delivery_headers(headers)
        try:
            async with self._client().post(
                upstream_url(upstream, path),
                data=body,
                headers=sent,
                skip_auto_headers=[h for h in ("Accept", "User-Agent") if h not in sent],
                allow_redirects=False,
                server_hostname=upstream.sni,
                timeout=aiohttp.ClientTimeout(total=limit_s),
            ) as response:
                return response.status, await response.read(), None
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return None, b"", str(e) or type(e).__name__

    async def ask_check_token(
        self, headers: Sequence[tuple[str, str]], body: bytes
    ) -> bytes | None:
        """Upstream's `OK`/`not found`, or None when it gave no usable answer."""
        status, answer, error = await self.post(
            wire.CHECK_TOKEN, headers, body, CHECK_TOKEN_TIMEOUT_S
        )
        relayed = judge_check_token(status, answer)
        if relayed is None:
            logger.info(
                "check_token: upstream gave no usable answer (%s), using the local rule",
                error or f"HTTP {status}",
            )
        return relayed

    async def _deliver_forever(self) -> None:
        while True:
            try:
                outbox = Outbox(await self.store.opened())
                await self._drain(outbox)
            except StorageError as e:
                logger.error("mirror: storage unavailable, retrying in 10 s: %s", e)
            await asyncio.sleep(10)

    async def _crashed(self, crash: Crash) -> None:
        """A bug, not teslalogger.de: `make status` shows it as the mirror's last error."""
        try:
            outbox = Outbox(await self.store.opened())
            await outbox.failed(f"{crash.message}; restarting in {crash.retry_in or 0:.0f} s")
        except StorageError:
            pass  # the log has it; the status cannot

    async def _drain(self, outbox: Outbox) -> None:
        status = await outbox.status()
        if status.waiting:
            logger.info("mirror: %d uploads waiting for teslalogger.de", status.waiting)
        while True:
            parcels = await outbox.next(BATCH)
            if not parcels:
                self._wake.clear()
                parcels = await outbox.next(BATCH)  # one may have landed before clear()
                if not parcels:
                    await self._wake.wait()
                    continue
            for parcel in parcels:
                await self._deliver(outbox, parcel)

    async def _deliver(self, outbox: Outbox, parcel) -> None:
        while True:
            status, body, error = await self.post(
                parcel.path, parcel.headers, parcel.body, DELIVERY_TIMEOUT_S
            )
            outcome = judge_insert(status, body, error)
            if outcome.verdict is Verdict.DELIVERED:
                await outbox.delivered(parcel.id)
                self._recovered()
                return
            if outcome.verdict is Verdict.REJECTED:
                await outbox.rejected(parcel.id, outcome.reason)
                logger.warning(
                    "mirror: teslalogger.de refused upload %d (sample %s) for good, kept in "
                    "the outbox as rejected: %s",
                    parcel.id,
                    parcel.sample_id,
                    outcome.reason,
                )
                return
            await self._failed(outbox, outcome)

    async def _failed(self, outbox: Outbox, outcome: Outcome) -> None:
        self.failures += 1
        await outbox.failed(outcome.reason)
        now = time.monotonic()
        if self.failures == 1 or now - self._last_status_log > STATUS_LOG_EVERY_S:
            self._last_status_log = now
            waiting = (await outbox.status()).waiting
            logger.warning(
                "mirror: delivery failed (%s); %d uploads waiting, retrying with backoff",
                outcome.reason,
                waiting,
            )
        await asyncio.sleep(
            backoff(self.failures, outcome.min_delay, cap=ctx.options.smt_upstream_retry_max)
        )

    def _recovered(self) -> None:
        if self.failures:
            logger.info("mirror: teslalogger.de answers again after %d failures", self.failures)
            self.failures = 0

    def done(self) -> None:
        # Synchronous on purpose (see Store.done): cancel, and close sockets now.
        self._running = False
        if self._delivery is not None:
            self._delivery.stop()
            self._delivery = None
        if self._session is not None:
            connector = self._session.connector
            self._session.detach()
            if connector is not None:
                # The sockets close right here; what is returned only reports it.
                self._closing = asyncio.ensure_future(connector.close(abort_ssl=True))
            self._session = None
