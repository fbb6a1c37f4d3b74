"""Tesla API calls per hour behind the wallbox API during a PV-surplus session.

    .venv/bin/python tests/bench/pv_session.py [--hours 1] [--factor 120] [--loop 30]

A PV controller loop (like evcc's, every `--loop` simulated seconds) reads the
status and sends set_amps every round: the value changes every few minutes
(`--change-every`) and is the same otherwise. The wallbox API, its controller
and the teslapy back-end talk to the car simulator over real HTTP on loopback;
time runs `--factor` times faster, so an hour takes about half a minute.
Prints the loop's HTTP calls against the Tesla API calls the simulator counted,
by kind, and what they would cost on the Fleet API.

    .venv/bin/python tests/bench/pv_session.py --teslamate [--broker mqtt://127.0.0.1:1883]
    .venv/bin/python tests/bench/pv_session.py --both

`--teslamate` adds TeslaMate's telemetry: the simulated car is published to a
real Mosquitto as TeslaMate would (its whole summary, retained, whenever a
value changed, looked at every `--teslamate-every` simulated seconds) and the
controller takes its state from there. `--both` runs the hour without and with
it and compares.
"""

import argparse
import asyncio
import logging
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.fake_teslamate import prefix, teslamate_topics  # noqa: E402
from wallbox.api.server import make_app  # noqa: E402
from wallbox.clock import ScaledClock  # noqa: E402
from wallbox.control.controller import Controller  # noqa: E402
from wallbox.control.planner import PollPolicy  # noqa: E402
from wallbox.control.settings import Settings  # noqa: E402
from wallbox.mqtt.link import MqttLink, parse_broker_url  # noqa: E402
from wallbox.teslamate.feed import TeslaMateFeed  # noqa: E402
from wallbox.vehicle.simulator.fleet import Fleet  # noqa: E402
from wallbox.vehicle.simulator.server import make_app as make_simulator  # noqa: E402
from wallbox.vehicle.teslapy_backend import TeslapyBackend  # noqa: E402
from wallbox.vehicle.tokens import TokenFile  # noqa: E402

# Fleet API prices (PROTOCOL.md 5): calls per US dollar.
PER_DOLLAR = {"data": 500, "command": 1000, "wake": 50}
AMPS_PATTERN = [16, 12, 8, 10, 14, 6, 9, 16, 11, 7, 13, 15]  # PV surplus, in amps


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


class FakeTeslaMate:
    """The simulated car, published to the broker as TeslaMate does (on change, retained)."""

    def __init__(self, broker: str, fleet: Fleet, clock: ScaledClock, every: float) -> None:
        self.namespace = f"bench-{uuid.uuid4().hex[:10]}"
        self.fleet, self.clock, self.every = fleet, clock, every
        self.link = MqttLink(parse_broker_url(broker), what="fake TeslaMate")
        self.published: set[str] = set()
        self.bursts = 0
        self._last: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.link.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.fleet.advance()
            car = self.fleet.cars[0]
            values = teslamate_topics(car.vehicle_data(self.clock.wall()))  # uncounted
            if values != self._last:
                self._last, self.bursts = values, self.bursts + 1
                for name, payload in values.items():
                    topic = prefix(self.namespace, 1) + name
                    self.published.add(topic)
                    self.link.publish(topic, payload, retain=True)
            await self.clock.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for topic in self.published:  # leave the broker as it was
            self.link.publish(topic, b"", retain=True)
        await asyncio.sleep(0.5)
        self.link.close()


async def session(args: argparse.Namespace) -> dict:
    clock = ScaledClock(args.factor)
    fleet = Fleet.with_cars(1, clock, soc=30.0, state="asleep" if args.asleep else "online")
    sim_runner, sim_port = await serve(make_simulator(fleet))
    feed = subscriber = teslamate = None
    if args.teslamate:
        teslamate = FakeTeslaMate(args.broker, fleet, clock, args.teslamate_every)
        teslamate.start()
        feed = TeslaMateFeed(clock, namespace=teslamate.namespace, silence_s=300)
        subscriber = MqttLink(
            parse_broker_url(args.broker),
            topics=feed.topics,
            on_message=feed.on_message,
            on_connection=feed.on_connection,
        )
        subscriber.start()
    with tempfile.TemporaryDirectory() as tmp:
        backend = TeslapyBackend(f"http://127.0.0.1:{sim_port}", TokenFile(Path(tmp) / "t.json"))
        policy = PollPolicy(charging_s=args.poll_charging, idle_s=args.poll_idle)
        controller = Controller(backend, clock=clock, settings=Settings(policy=policy), feed=feed)
        if feed is not None:
            feed.bind(controller)
        api_runner, api_port = await serve(make_app(controller, "bench-secret-0000"))
        base = f"http://127.0.0.1:{api_port}"
        loop_calls: Counter[str] = Counter()
        async with aiohttp.ClientSession() as http:

            async def get(path: str) -> dict:
                loop_calls[path.split("?")[0].rsplit("/", 1)[-1]] += 1
                async with http.get(base + path) as reply:
                    return await reply.json()

            want = "teslamate" if args.teslamate else "tesla_api"
            while (s := await get("/tlwb/1/status")).get("error") or (
                s["telemetry"]["source"] != want
            ):
                await clock.sleep(1)
            loop_calls.clear()
            fleet.calls.clear()
            start = clock.now()
            await get("/tlwb/1/control?1")
            rounds = changes = 0
            last = None
            while clock.now() - start < args.hours * 3600:
                minute = (clock.now() - start) // args.change_every
                amps = AMPS_PATTERN[int(minute) % len(AMPS_PATTERN)]
                await get("/tlwb/1/status")  # evcc reads status and enabled: one call here
                await get(f"/tlwb/1/set_amps?{amps}")  # the same value again most rounds
                changes += amps != last
                last, rounds = amps, rounds + 1
                # a fixed beat, like evcc's ticker: the time the calls took is not added
                await clock.sleep(start + rounds * args.loop - clock.now())
            final = await get("/tlwb/1/status")
        await api_runner.cleanup()
        backend.close()
    if teslamate is not None and subscriber is not None and feed is not None:
        subscriber.close()
        feed.stop()
        await teslamate.stop()
    await sim_runner.cleanup()
    hours = (clock.now() - start) / 3600
    by_kind = fleet.calls_report()["by_kind"]
    return {
        "hours": hours,
        "rounds": rounds,
        "changes": changes,
        "loop_calls": sum(loop_calls.values()),
        "tesla": dict(fleet.calls),
        "by_kind": by_kind,
        "soc": (30, final.get("soc")),
        "sent_amps": [v["charging_amps"] for _, n, v in fleet.cars[0].commands if "amps" in n],
        "telemetry": final["telemetry"]["source"],
        "bursts": teslamate.bursts if teslamate else 0,
    }


def report(r: dict, args: argparse.Namespace) -> None:
    hours = r["hours"]
    tesla = sum(r["tesla"].values())
    cost = sum(n / PER_DOLLAR[kind] for kind, n in r["by_kind"].items())
    direct = r["rounds"] / PER_DOLLAR["data"] + r["rounds"] / PER_DOLLAR["command"]
    start = "asleep" if args.asleep else "online"
    print(
        f"PV session: {hours:.2f} simulated h, loop every {args.loop:.0f} s, amps changing "
        f"every {args.change_every:.0f} s ({r['changes']} changes), car starts {start}, "
        f"SoC {r['soc'][0]} -> {r['soc'][1]} %"
    )
    if r["bursts"]:
        print(
            f"  telemetry: TeslaMate ({r['bursts']} summaries published), "
            f"source at the end: {r['telemetry']}"
        )
    else:
        print("  telemetry: none, the Tesla API is read")
    loop = r["loop_calls"]
    print(f"  loop HTTP calls to the wallbox API: {loop:5d}  ({loop / hours:.0f}/h)")
    print(f"  Tesla API calls:                    {tesla:5d}  ({tesla / hours:.0f}/h)")
    for kind in ("data", "command", "wake"):
        n = r["by_kind"].get(kind, 0)
        print(f"    {kind:8s} {n:4d}  ({n / hours:.0f}/h)")
    for endpoint, n in sorted(r["tesla"].items()):
        print(f"      {endpoint:28s} {n:4d}")
    print(f"  ratio: {tesla / loop:.3f} Tesla calls per loop call")
    print(
        f"  Fleet API cost: ${cost / hours:.3f}/h (a loop calling Tesla directly, one read "
        f"and one set_charging_amps per round: ${direct / hours:.3f}/h)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--factor", type=float, default=120.0, help="simulated s per real s")
    parser.add_argument("--loop", type=float, default=30.0, help="control loop period, s")
    parser.add_argument("--change-every", type=float, default=300.0, help="amps change, s")
    parser.add_argument("--poll-charging", type=float, default=120.0)
    parser.add_argument("--poll-idle", type=float, default=900.0)
    parser.add_argument("--asleep", action="store_true", help="the car starts asleep")
    parser.add_argument("--teslamate", action="store_true", help="state from TeslaMate's MQTT")
    parser.add_argument("--teslamate-every", type=float, default=10.0, help="TeslaMate's poll, s")
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--both", action="store_true", help="without, then with TeslaMate")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runs = [False, True] if args.both else [args.teslamate]
    totals = []
    for with_teslamate in runs:
        args.teslamate = with_teslamate
        result = asyncio.run(session(args))
        report(result, args)
        totals.append(sum(result["tesla"].values()) / result["hours"])
    if args.both:
        print(f"Tesla API calls per hour: {totals[0]:.0f} without TeslaMate, {totals[1]:.0f} with")


if __name__ == "__main__":
    main()
