"""The status page on the wallbox port: "is it working?" at a glance.

    GET /               the page (page_assets/index.html)
    GET /page/<asset>   its script, style and the vendored chart library (uPlot)
    GET /page/state     everything it shows, as JSON (the page's text and charts)
    GET /page/events    the same, live: server-sent events while the tab is open

The wallbox API's rules apply (server.py's require_secret): this host freely,
other hosts with the secret. A browser cannot send a Bearer header, so a page
path's 401 asks for HTTP Basic (any user name, the secret as the password),
which security.py already accepts. Nothing the page shows holds the secret.

The stream looks for news once a second, and at once (LOOK_GAP_S after its last
look at the earliest) when a car's status changes or an upload is stored; it
sends only what changed: the text when it differs, the charts' new points.
A closed tab ends its stream, and nothing is read for it any more. The car
charts' history is kept whether or not a tab is open (page_history.py), and
across restarts (page_keep.py): a point per car status change, nothing per upload.
"""

import asyncio
import gzip
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from wallbox.api import page_keep
from wallbox.api.page_history import (
    CAR_SERIES,
    CHART_S,
    Series,
    car_reading,
    command_asked,
    kept,
    restored,
    who_asked,
)
from wallbox.api.page_view import summary
from wallbox.control.controller import Controller

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).with_name("page_assets")
TICK_S = 1.0
LOOK_GAP_S = 0.5  # between two looks: uploads at full speed cost two reads a second, not one each
COMMANDS_KEPT = 50

# The capture's state (addons/capture_state.py): tokens, mirror, last refusal,
# and chart series by token. Absent when the wallbox runs without the proxy.
Capture = Callable[[], Awaitable[dict[str, Any]]]
CAPTURE = web.AppKey("capture", Capture)
# Where the charts and commands survive a restart (page_keep.py); absent: memory only.
HISTORY_FILE = web.AppKey("history_file", Path)


def _load_assets() -> dict[str, tuple[bytes, bytes, str]]:
    """name -> (body, gzipped body, content type), read once: the page is small."""
    types = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
             ".LICENSE": "text/plain"}  # fmt: skip
    found = {}
    for path in ASSETS.iterdir():
        kind = types.get(path.suffix)
        if kind:
            body = path.read_bytes()
            found[path.name] = (body, gzip.compress(body, 9, mtime=0), kind + "; charset=utf-8")
    return found


class Page:
    """What the page keeps between requests: each car's chart and the commands asked."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.cars: dict[str, Series] = {}  # by VIN: car numbers follow the account's order
        self.commands: deque[dict[str, Any]] = deque(maxlen=COMMANDS_KEPT)
        self.assets = _load_assets()
        self._news = asyncio.Event()
        self.streams = 0  # open tabs: without one, news costs nothing
        self._unsubscribe: Callable[[], None] | None = None

    def follow(self) -> None:
        self._unsubscribe = self.controller.subscribe(self.seen)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def seen(self, status: dict[str, Any]) -> None:
        """A car's status changed: a point for its chart, and news for open streams."""
        series = self.cars.setdefault(status["vin"], Series(CAR_SERIES))
        series.add(self.controller.clock.wall(), car_reading(status))
        self.news()

    def restore(self, path: Path) -> None:
        self.cars, commands = restored(page_keep.read(path), self.controller.clock.wall())
        self.commands.extend(commands)

    def keep(self, path: Path) -> int:
        """Write the history to `path` (blocking: from a thread, or at exit)."""
        return page_keep.write(path, kept(self.cars, list(self.commands)))

    def news(self) -> None:
        """Something changed (a car, an upload): open streams look at once."""
        if not self.streams:
            return
        self._news.set()
        self._news = asyncio.Event()  # waiters hold the one that was just set

    async def next_news(self, within: float) -> None:
        try:
            await asyncio.wait_for(self._news.wait(), within)
        except TimeoutError:
            pass

    async def state(self, capture: Capture | None) -> tuple[dict[str, Any], dict[str, Series]]:
        """(the page's text, its charts by id)."""
        captured = await capture() if capture is not None else {}
        cars = [car.status() for car in self.controller.cars]
        charts: dict[str, Series] = {}
        for status in cars:  # a chart goes up to now, even when nothing changed for hours
            series = self.cars.setdefault(status["vin"], Series(CAR_SERIES))
            series.add(self.controller.clock.wall(), car_reading(status))
            charts[f"car-{status['car']}"] = series
        text = summary(cars, captured, list(self.commands), time.time(),
                       not_ready=self.controller.not_ready)  # fmt: skip
        for token, series in captured.get("series", {}).items():
            charts[f"capture-{token}"] = series
        text["charts"] = {
            name: {"series": list(s.names), "units": _units(name, captured),
                   "window_s": CHART_S if name.startswith("car-") else s.keep_s}
            for name, s in charts.items()
        }  # fmt: skip
        return text, charts


def _units(chart: str, captured: dict[str, Any]) -> list[str]:
    if chart.startswith("car-"):
        return ["%", "kW", "A", "A"]
    return list(captured.get("units", ()))


def _chart_window(series: Series) -> float:
    last = series.points[-1][0] if series.points else 0.0
    return last - CHART_S


async def index(request: web.Request) -> web.StreamResponse:
    return _asset(request, "index.html", cache="no-store")


async def asset(request: web.Request) -> web.StreamResponse:
    return _asset(request, request.match_info["name"], cache="max-age=3600")


def _asset(request: web.Request, name: str, *, cache: str) -> web.Response:
    found = request.app[PAGE].assets.get(name)
    if found is None:
        raise web.HTTPNotFound()
    body, zipped, kind = found
    headers = {"Cache-Control": cache, "Content-Type": kind, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = zipped
    return web.Response(body=body, headers=headers)


async def state(request: web.Request) -> web.Response:
    text, charts = await request.app[PAGE].state(request.app.get(CAPTURE))
    text["data"] = {name: s.columns(_chart_window(s)) for name, s in charts.items()}
    return web.json_response(text, headers={"Cache-Control": "no-store"})


async def events(request: web.Request) -> web.StreamResponse:
    """The page's text when it changes, and each chart's points from the last one sent
    (which a newer reading in the same bucket may have replaced) as `charts`."""
    page = request.app[PAGE]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store"})  # fmt: skip
    await response.prepare(request)
    sent_text = ""
    loop = asyncio.get_running_loop()
    page.streams += 1
    sent_upto: dict[str, float] = {}  # chart -> time of the last point sent
    sent_last: dict[str, Any] = {}  # chart -> that point, to tell a replaced one
    try:
        while True:
            text, charts = await page.state(request.app.get(CAPTURE))
            encoded = json.dumps(text, separators=(",", ":"))
            if encoded != sent_text:
                await response.write(b"event: summary\ndata: " + encoded.encode() + b"\n\n")
                sent_text = encoded
            news = {}
            for name, series in charts.items():
                last = series.points[-1] if series.points else None
                if last is not None and last != sent_last.get(name):
                    since = sent_upto.get(name, _chart_window(series))
                    news[name] = series.columns(since)
                    sent_upto[name], sent_last[name] = last[0], last
            if news:
                data = json.dumps(news, separators=(",", ":"))
                await response.write(b"event: charts\ndata: " + data.encode() + b"\n\n")
            looked = loop.time()
            await page.next_news(TICK_S)
            await asyncio.sleep(max(0.0, looked + LOOK_GAP_S - loop.time()))
    except ConnectionResetError:
        pass  # the tab was closed: nothing more is read for it
    finally:
        page.streams -= 1
    return response


PAGE = web.AppKey("page", Page)


async def _note_command(request: web.Request, response: web.StreamResponse) -> None:
    """Remember who asked a car for what, and make a page's 401 a Basic prompt."""
    if response.status == 401 and (request.path == "/" or request.path.startswith("/page/")):
        response.headers["WWW-Authenticate"] = 'Basic realm="teslahome wallbox", charset="UTF-8"'
        return
    asked = command_asked(request.method, request.path, request.query_string)
    if asked is None:
        return
    car, what = asked
    who = who_asked(request.remote, request.headers.get("User-Agent"))
    request.app[PAGE].commands.append(
        {"at": time.time(), "car": car, "what": what, "who": who, "answer": response.status}
    )


async def _following(app: web.Application) -> Any:
    page, path = app[PAGE], app.get(HISTORY_FILE)
    if path is not None:
        await asyncio.to_thread(page.restore, path)
    page.follow()
    saving = asyncio.create_task(_saving(page, path)) if path is not None else None
    yield
    page.stop()
    if saving is not None:
        saving.cancel()
        page.keep(path)  # type: ignore[arg-type]


async def _saving(page: Page, path: Path) -> None:
    while True:
        await asyncio.sleep(page_keep.SAVE_EVERY_S)
        await asyncio.to_thread(page.keep, path)


def add_routes(app: web.Application, controller: Controller) -> None:
    app[PAGE] = Page(controller)
    app.on_response_prepare.append(_note_command)
    app.cleanup_ctx.append(_following)
    app.router.add_get("/", index, allow_head=False)
    app.router.add_get("/page/state", state, allow_head=False)
    app.router.add_get("/page/events", events, allow_head=False)
    app.router.add_get("/page/{name}", asset, allow_head=False)
