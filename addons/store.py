"""Opens the database when the proxy starts, trims the history, closes it at exit."""

import asyncio
import logging
import os
import time
from pathlib import Path

from mitmproxy import ctx, exceptions

from storage.database import DB_NAME, Database, StorageError
from storage.samples import SampleStore
from wallbox.supervisor import Supervised

logger = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0


class Store:
    """Other addons get the open store through `await store.samples()` (or the
    database itself through `await store.opened()`); until the database is open
    they wait, and if it cannot be opened they get the reason."""

    def __init__(self) -> None:
        self.database: Database | None = None
        self._opening: asyncio.Task[SampleStore] | None = None
        self._purging = Supervised(
            "history purge", self._purge_forever, backoff_s=60.0, backoff_max_s=PURGE_EVERY_S
        )

    def load(self, loader) -> None:
        loader.add_option(
            "data_dir",
            str,
            "data",
            "Directory for the database and other state (created if missing).",
        )
        loader.add_option(
            "smt_history_days",
            int,
            30,
            "Days of ScanMyTesla history to keep (every upload, whole); 0 keeps it forever. "
            "The newest value of every id and what TeslaLogger has not fetched are always kept.",
        )

    def configure(self, updated: set[str]) -> None:
        if "data_dir" in updated:
            path = Path(ctx.options.data_dir)
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise exceptions.OptionsError(f"data_dir {path}: {e.strerror}") from None
            if not os.access(path, os.W_OK):
                raise exceptions.OptionsError(f"data_dir {path} is not writable")
            if self.database is not None and self.database.path.parent != path:
                logger.warning("data_dir changed: restart the proxy to use %s", path)
        if "smt_history_days" in updated and ctx.options.smt_history_days < 0:
            raise exceptions.OptionsError("smt_history_days must be 0 (forever) or more")

    def running(self) -> None:
        self._start()

    def _start(self) -> asyncio.Task[SampleStore]:
        failed = (
            self._opening is not None
            and self._opening.done()
            and (self._opening.cancelled() or self._opening.exception() is not None)
        )
        if self._opening is None or failed:  # a failed open is tried again on the next use
            self._opening = asyncio.create_task(self._open(), name="open storage")
        return self._opening

    async def _open(self) -> SampleStore:
        self.database = Database(Path(ctx.options.data_dir) / DB_NAME)
        try:
            await self.database.open()
        except StorageError as e:
            logger.error("storage unavailable: %s", e)
            raise
        logger.info("storage: %s", self.database.path)
        self._purging.start()
        return SampleStore(self.database)

    async def samples(self) -> SampleStore:
        """The open sample store; raises StorageError if the database cannot be opened."""
        opening = self._opening
        if opening is not None and opening.done() and not opening.cancelled():
            if opening.exception() is None:
                return opening.result()  # every upload asks: no shield once it is open
        return await asyncio.shield(self._start())

    async def opened(self) -> Database:
        """The open database, for stores of other concerns; raises StorageError."""
        return (await self.samples()).db

    async def _purge_forever(self) -> None:
        samples = await self.samples()
        while True:
            days = ctx.options.smt_history_days
            if days > 0:
                try:
                    deleted = await samples.purge(int((time.time() - days * 86400) * 1000))
                except StorageError as e:
                    logger.warning("could not trim the history: %s", e)
                else:
                    if deleted:
                        logger.info("history: removed %d samples older than %d days", deleted, days)
            await asyncio.sleep(PURGE_EVERY_S)

    def done(self) -> None:
        # Synchronous on purpose: an async `done` breaks mitmproxy's script reload.
        self._purging.stop()
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        if self.database is not None:
            self.database.stop(wait=5.0)
