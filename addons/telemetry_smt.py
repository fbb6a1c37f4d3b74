"""The local ScanMyTesla capture as a push source: its options, checked, and the source
fed from the store.

Part of the telemetry addon (addons/telemetry.py). No broker and no stream: the
uploads this proxy stores are handed over in-process, each once it is durable
(the upload is answered `OK` only then, as before: the source only listens,
through `SampleStore.on_stored`), on the loop, as a fold of a few values.
"""

import asyncio
import logging
from collections.abc import Sequence

from mitmproxy import ctx, exceptions

from addons.options import check_range
from addons.store import Store
from storage.database import StorageError
from wallbox.clock import Clock
from wallbox.telemetry.scanmytesla import ScanMyTeslaSource, parse_cars

logger = logging.getLogger(__name__)

CARS = "telemetry_smt_cars"
SILENCE = "telemetry_smt_silence_s"


def declare(loader) -> None:
    loader.add_option(
        CARS, Sequence[str], [],
        "The ScanMyTesla uploads this proxy captures as the car's state while energy flows "
        "(SoC, power, AC or DC): token=VIN or token=<car number> per car, or auto (a token "
        "that is TeslaLogger's CRC32 of a car's VIN and name is that car's in any case). "
        "Empty: off.",
    )  # fmt: skip
    loader.add_option(
        SILENCE, int, 20,
        "Seconds the phone may stay silent while the car charges, or after a command, "
        "before the Tesla API is read instead (the app uploads every second or so).",
    )  # fmt: skip


def check(updated: set[str]) -> None:
    check_range(updated, SILENCE, 5, 86400, "5..86400 seconds")
    if CARS in updated:
        try:
            parse_cars(ctx.options.telemetry_smt_cars)
        except ValueError as e:
            raise exceptions.OptionsError(f"{CARS}: {e}") from None


class Capture:
    """The source, subscribed to the store's stored uploads once the store is open."""

    def __init__(self, source: ScanMyTeslaSource, store: Store) -> None:
        self.source = source
        self._unsubscribe = None
        self._subscribing = asyncio.get_running_loop().create_task(
            self._subscribe(store), name="ScanMyTesla telemetry"
        )

    async def _subscribe(self, store: Store) -> None:
        try:
            samples = await store.samples()
        except StorageError as e:
            logger.error("ScanMyTesla telemetry: no uploads without the store: %s", e)
            return
        self._unsubscribe = samples.on_stored(
            lambda sample: self.source.uploaded(sample.token, sample.values)
        )

    def close(self) -> None:
        self._subscribing.cancel()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def start(clock: Clock, store: Store | None) -> Capture | None:
    o = ctx.options
    if not o.telemetry_smt_cars or store is None:
        return None
    source = ScanMyTeslaSource(
        clock, parse_cars(o.telemetry_smt_cars), rhythm_s=float(o.telemetry_smt_silence_s)
    )
    return Capture(source, store)
