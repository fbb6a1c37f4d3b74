"""Runs the wallbox API (wallbox/api/server.py) inside mitmproxy's event loop.

`running` starts it as a task (the hook itself stays synchronous, so script
reloads keep working); `done` stops it without awaiting: the listening socket
closes at once, idle connections are closed, the controller's workers are
cancelled and the teslapy thread is released.

Nothing is sent to Tesla until a back-end is set up (addons/vehicle_backend.py):
until then the wallbox answers 503 naming the ones that work.
"""

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from aiohttp import web
from mitmproxy import ctx, exceptions

from addons.capture_state import CaptureState
from addons.options import check_range, checked
from addons.store import Store
from addons.telemetry import Telemetry
from addons.teslamate import TeslaMate
from addons.vehicle_backend import VehicleOptions
from addons.wallbox_control_options import (
    BILLED_KINDS,
    check_control_options,
    control_settings,
    declare_control_options,
)
from storage.database import StorageError
from storage.intents import IntentStore
from wallbox.api import page_keep
from wallbox.api.page import CAPTURE, HISTORY_FILE, PAGE, Page
from wallbox.api.security import TOKEN_FILE as SECRET_FILE
from wallbox.api.security import check_secret, load_or_create_secret
from wallbox.api.server import make_app
from wallbox.clock import RealClock, ScaledClock
from wallbox.control.controller import Controller
from wallbox.control.geo import parse_pv_locations
from wallbox.control.settings import Settings
from wallbox.supervisor import spawn

logger = logging.getLogger(__name__)

VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$", re.IGNORECASE)


class WallboxApi:
    def __init__(
        self,
        store: Store,
        teslamate: TeslaMate | None = None,
        *,
        proxied: Callable[[tuple[str, int] | None], bool] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        """`proxied(peer)`: whether a loopback peer is this process's own proxy
        connection, made for a client elsewhere (host_guard.py)."""
        self.store = store
        self.proxied = proxied
        self.teslamate = teslamate or TeslaMate()
        self.telemetry = telemetry or Telemetry()  # push feeds beside TeslaMate's
        self.controller: Controller | None = None
        self._runner: web.AppRunner | None = None
        self._server: asyncio.AbstractServer | None = None
        self._starting: asyncio.Task[None] | None = None
        self._followers: list[Callable[[Controller], None]] = []
        self.vehicle = VehicleOptions()  # the tesla_* options and the back-end they choose
        self._billed = True  # the chosen back-end bills its calls (api_usage shows dollars)
        self.capture = CaptureState(store)  # what the status page shows of ScanMyTesla
        self.page: tuple[Page, Path] | None = None  # its history, written once more at exit

    def when_started(self, follower: Callable[[Controller], None]) -> None:
        """Call `follower(controller)` once the controller exists (MQTT, openWB)."""
        self._followers.append(follower)
        if self.controller is not None:
            follower(self.controller)

    def load(self, loader) -> None:
        loader.add_option(
            "wallbox_host",
            str,
            "",
            "Address the wallbox API listens on; empty: every interface, so home automation "
            "on the LAN reaches it (other hosts need the secret).",
        )
        loader.add_option(
            "wallbox_port", int, 5000, "Port of the wallbox API (TeslaLogger's port); 0: off."
        )
        loader.add_option(
            "wallbox_token",
            str,
            "",
            "Secret other hosts must send (Authorization: Bearer <secret>). Empty: one is "
            "generated into data_dir/wallbox_token at the first start (never logged).",
        )
        loader.add_option(
            "wallbox_cars",
            Sequence[str],
            [],
            "VINs in car-number order (car 1 first). Empty: the account's order; "
            "TeslaBleHttpProxy has no car list, so it needs them.",
        )
        loader.add_option(
            "wallbox_pv_location",
            str,
            "",
            "Where PV charging makes sense (status 2): lat,lon[,radius_m] (radius 100 m if "
            "left out); several separated by ';'.",
        )
        loader.add_option(
            "wallbox_pv_geofences",
            Sequence[str],
            [],
            "TeslaMate geofence names that count as the PV location.",
        )
        loader.add_option(
            "wallbox_control_everywhere",
            bool,
            False,
            "Control the car wherever it is. Off: with a PV location or geofence set, a car "
            "known to be elsewhere, or on a DC fast charger anywhere, is no car at this charge "
            "point (status 0, commands refused with 409, nothing sent).",
        )
        declare_control_options(loader)
        loader.add_option(
            "wallbox_time_factor",
            int,
            1,
            "Run the controller's clock this many times faster: only for `make demo` and "
            "tests against the simulator (which then gets the same --time-factor).",
        )
        self.vehicle.load(loader)

    def configure(self, updated: set[str]) -> None:
        o = ctx.options
        check_range(updated, "wallbox_port", 0, 65535, "1..65535, or 0 to turn it off")
        checked(updated, "wallbox_token", check_secret, unless_empty=True)
        if "wallbox_cars" in updated:
            bad = [v for v in o.wallbox_cars if not VIN_RE.fullmatch(v)]
            if bad:
                raise exceptions.OptionsError(f"wallbox_cars: {bad[0]!r} is not a 17-character VIN")
        checked(updated, "wallbox_pv_location", parse_pv_locations)
        check_range(updated, "wallbox_time_factor", 1, 1000, "1..1000 (1: real time)")
        check_control_options(updated)
        self.vehicle.configure(updated)
        if self.controller is not None:
            live = {"wallbox_pv_location", "wallbox_pv_geofences", "wallbox_control_everywhere"}
            if updated & live:
                self._apply_settings()
            later = {n for n in updated - live if n.startswith(("wallbox_", "tesla_"))}
            if later:
                logger.warning("wallbox: restart the proxy to apply %s", ", ".join(sorted(later)))

    def _settings(self) -> Settings:
        o = ctx.options
        return Settings(
            pv_locations=parse_pv_locations(o.wallbox_pv_location),
            pv_geofences=frozenset(o.wallbox_pv_geofences),
            cars=tuple(v.upper() for v in o.wallbox_cars),
            control_everywhere=o.wallbox_control_everywhere,
            **control_settings(o, billed=self._billed),
        )

    def _apply_settings(self) -> None:
        assert self.controller is not None
        settings = self._settings()
        self.controller.settings = settings
        for car in self.controller.cars:
            car.settings = settings

    def running(self) -> None:
        if ctx.options.wallbox_port == 0:
            logger.info("wallbox API: off (wallbox_port=0)")
            return
        if self._starting is None:
            self._starting = spawn("starting the wallbox API", self._start())

    async def _start(self) -> None:
        o = ctx.options
        data_dir = Path(o.data_dir)
        if o.wallbox_token:
            secret = o.wallbox_token
        else:
            secret, created = await asyncio.to_thread(load_or_create_secret, data_dir)
            if created:  # never the secret itself: logs and screenshots get shared
                where = data_dir / SECRET_FILE
                logger.warning(
                    "wallbox API: generated the secret other hosts must send into %s "
                    "(mode 0600); read it with `cat %s` and send it as "
                    "`Authorization: Bearer <secret>`",
                    where,
                    where,
                )
        backend, choice, tokens = await self.vehicle.build(data_dir, self.teslamate.token_source())
        self._billed = choice.kind in BILLED_KINDS
        storage = None
        try:
            storage = IntentStore(await self.store.opened())
        except StorageError as e:
            logger.error("wallbox: intents will not survive a restart: %s", e)
        if not (o.wallbox_pv_location or o.wallbox_pv_geofences or o.wallbox_control_everywhere):
            logger.info(
                "wallbox: no PV location set (wallbox_pv_location, wallbox_pv_geofences): the "
                "car is controlled wherever it is, except on a DC fast charger"
            )
        factor = o.wallbox_time_factor
        clock = RealClock() if factor == 1 else ScaledClock(factor)
        feed = self.telemetry.start_feed(clock, self.teslamate.start_feed(clock))
        self.controller = Controller(
            backend, clock=clock, settings=self._settings(), storage=storage, feed=feed
        )
        if feed is not None:
            feed.bind(self.controller)
        for follower in self._followers:
            follower(self.controller)
        app = make_app(self.controller, secret, proxied=self.proxied)
        app[CAPTURE] = self.capture
        app[HISTORY_FILE] = data_dir / page_keep.FILE
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()  # starts the controller (the app's cleanup_ctx)
        self.page = (app[PAGE], app[HISTORY_FILE])  # restored by now: safe to write at exit
        self.capture.news = app[PAGE].news  # an upload shows at once on open pages
        self._runner = runner
        host = o.wallbox_host or None
        try:
            assert runner.server is not None
            self._server = await asyncio.get_running_loop().create_server(
                runner.server, host, o.wallbox_port
            )
        except OSError as e:
            logger.error(
                "wallbox API: cannot listen on %s:%d (%s): choose another wallbox_port "
                "(make run WALLBOX_PORT=...)",
                o.wallbox_host or "*",
                o.wallbox_port,
                e.strerror or e,
            )
            self.controller.stop()
            return
        where = ", ".join(_url(s.getsockname()) for s in self._server.sockets)
        feeds = [f"TeslaMate at {self.teslamate.link.broker}"] if self.teslamate.link else []
        telemetry = ", ".join(self.telemetry.described() + feeds) or "none"
        logger.info(
            "wallbox API listening at %s (vehicle API: %s, tokens: %s, telemetry: %s)",
            where,
            f"{choice.kind} at {choice.api_url} ({choice.why})" if choice.api_url else "none",
            tokens,
            telemetry,
        )

    def done(self) -> None:
        # Synchronous on purpose (see Store.done): close what can be closed now.
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self._server is not None:
            self._server.close()
        if self._runner is not None and self._runner.server is not None:
            self._runner.server.pre_shutdown()  # closes idle keep-alive connections
        if self.controller is not None:
            self.controller.stop()
        self.capture.done()
        if self.page is not None:
            page, path = self.page
            page.keep(path)  # the runner's cleanup, which would write it, is never awaited


def _url(address: tuple) -> str:
    host, port = address[0], address[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
