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

    .venv/bin/python tests/bench/pv_session.py --backend ble|fleet|relay|owner|closed
    .venv/bin/python tests/bench/pv_session.py --backends [--asleep]

`--backend` picks the vehicle back-end and the simulator's shape (backends.py):
TeslaBleHttpProxy, the Fleet API with one's own app (HTTPS, tesla-http-proxy
signing the commands), a relay, the Owner-shaped API (the default, as before),
or the closed Owner API. `--backends` runs the hour once per back-end and
prints the calls and what Tesla would bill for them (every answer under 500,
billing.py) side by side.
"""

import argparse
import asyncio
import logging
import sys
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench import backends  # noqa: E402
from bench.backends import KINDS, TITLES  # noqa: E402
from support.fake_teslamate import prefix, teslamate_topics  # noqa: E402
from wallbox.api.server import make_app  # noqa: E402
from wallbox.clock import ScaledClock  # noqa: E402
from wallbox.control.controller import Controller  # noqa: E402
from wallbox.control.planner import PollPolicy  # noqa: E402
from wallbox.control.settings import Settings  # noqa: E402
from wallbox.mqtt.link import MqttLink, parse_broker_url  # noqa: E402
from wallbox.telemetry.teslamate_feed import TeslaMateFeed  # noqa: E402
from wallbox.vehicle.billing import PER_DOLLAR, cost_usd  # noqa: E402
from wallbox.vehicle.simulator.fleet import Fleet  # noqa: E402

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
    setup = await backends.start(args.backend, fleet)
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
    if True:  # one block, as the session's scope
        policy = PollPolicy(charging_s=args.poll_charging, idle_s=args.poll_idle)
        settings = Settings(policy=policy, cars=setup.cars)
        controller = Controller(setup.backend, clock=clock, settings=settings, feed=feed)
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
            while args.backend != "closed" and (
                (s := await get("/tlwb/1/status")).get("error") or s["telemetry"]["source"] != want
            ):
                await clock.sleep(1)
            loop_calls.clear()
            for counter in (fleet.calls, fleet.billed, fleet.via):
                counter.clear()
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
        await setup.close()
    if teslamate is not None and subscriber is not None and feed is not None:
        subscriber.close()
        feed.stop()
        await teslamate.stop()
    hours = (clock.now() - start) / 3600
    report = fleet.calls_report()
    by_kind = {k: n for k, n in report["by_kind"].items() if k != "auth"}
    return {
        "backend": args.backend,
        "billed": report["billed"],
        "hours": hours,
        "rounds": rounds,
        "changes": changes,
        "loop_calls": sum(loop_calls.values()),
        "tesla": dict(fleet.calls),
        "by_kind": by_kind,
        "soc": (30, final.get("soc")),
        "sent_amps": [v["charging_amps"] for _, n, v in fleet.cars[0].commands if "amps" in n],
        "telemetry": final.get("telemetry", {}).get("source", "none: " + final.get("error", "")),
        "bursts": teslamate.bursts if teslamate else 0,
    }


def cost_words(r: dict, hours: float) -> str:
    """What the hour's calls cost on this back-end."""
    cost = cost_usd(r["billed"]) / hours
    return {
        "ble": "$0: Bluetooth, nothing reaches Tesla's servers",
        "relay": f"the relay's own plan (as Fleet API calls: ${cost:.3f}/h)",
        "closed": f"refused, {sum(r['billed'].values())} answers",
    }.get(r["backend"], f"${cost:.3f}/h")


def report(r: dict, args: argparse.Namespace) -> None:
    hours = r["hours"]
    tesla = sum(r["tesla"].values())
    direct = r["rounds"] / PER_DOLLAR["data"] + r["rounds"] / PER_DOLLAR["command"]
    start = "asleep" if args.asleep else "online"
    print(
        f"PV session ({TITLES[r['backend']]}): {hours:.2f} simulated h, loop every "
        f"{args.loop:.0f} s, amps changing every {args.change_every:.0f} s ({r['changes']} "
        f"changes), car starts {start}, SoC {r['soc'][0]} -> {r['soc'][1]} %"
    )
    if r["bursts"]:
        print(
            f"  telemetry: TeslaMate ({r['bursts']} summaries published), "
            f"source at the end: {r['telemetry']}"
        )
    else:
        print(f"  telemetry: none, the vehicle API is read ({r['telemetry']})")
    loop = r["loop_calls"]
    print(f"  loop HTTP calls to the wallbox API: {loop:5d}  ({loop / hours:.0f}/h)")
    print(f"  vehicle API calls:                  {tesla:5d}  ({tesla / hours:.0f}/h)")
    for kind in ("data", "command", "wake"):
        n = r["by_kind"].get(kind, 0)
        print(f"    {kind:8s} {n:4d}  ({n / hours:.0f}/h)")
    for endpoint, n in sorted(r["tesla"].items()):
        print(f"      {endpoint:28s} {n:4d}")
    print(f"  ratio: {tesla / loop:.3f} vehicle API calls per loop call")
    print(
        f"  cost: {cost_words(r, hours)} (a loop calling the Fleet API directly, one read "
        f"and one set_charging_amps per round: ${direct / hours:.3f}/h)"
    )


def table(results: list[dict], args: argparse.Namespace) -> None:
    start = "asleep" if args.asleep else "online"
    print(f"Per back-end, one PV hour (car starts {start}), per hour:")
    print(f"  {'back-end':22s} {'calls':>5s} {'data':>5s} {'cmd':>4s} {'wake':>4s} "
          f"{'billed':>6s}  cost")  # fmt: skip
    for r in results:
        h, kinds = r["hours"], r["by_kind"]
        billed = "-" if r["backend"] == "ble" else f"{sum(r['billed'].values()) / h:.0f}"
        print(
            f"  {TITLES[r['backend']]:22s} {sum(r['tesla'].values()) / h:5.0f} "
            f"{kinds.get('data', 0) / h:5.0f} {kinds.get('command', 0) / h:4.0f} "
            f"{kinds.get('wake', 0) / h:4.0f} {billed:>6s}  {cost_words(r, h)}"
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
    parser.add_argument("--backend", choices=KINDS, default="owner", help="the vehicle back-end")
    parser.add_argument("--backends", action="store_true", help="the hour once per back-end")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.backends:
        results = []
        for kind in KINDS:
            args.backend, args.teslamate = kind, False
            results.append(asyncio.run(session(args)))
            report(results[-1], args)
        table(results, args)
        return
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
