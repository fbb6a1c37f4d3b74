"""A PV day at home, sunrise to sunset, driven as evcc drives a wallbox: what it
costs per back-end, and how well the car followed the surplus.

    .venv/bin/python tests/bench/pv_day.py [--days cloudy,clear] [--backends ble,fleet,relay]
        [--telemetry none,teslamate,fleet,tb2m,teslemetry] [--factor 600] [--seed 31]

The surplus is `pv_model.PvDay` (seeded; a cloudy day and a clear one). The car
is plugged in from the morning, asleep, at 40 % of 75 kWh with its limit at
85 %; the wallbox saw it the evening before (online and plugged in, then
asleep: the day starts once its status says so). The car falls asleep after
`--sleep-after` idle minutes without a call. evcc's loop (`pv_ledger.EvccLoop`)
reads the status every 30 s, sends `maxcurrent` only on change and enables or
disables with its delays. The wallbox API, its controller and the back-end
talk to the simulator in that back-end's shape
over real HTTP on loopback (backends.py), with or without telemetry:
TeslaMate's (pv_session.FakeTeslaMate on the Mosquitto at `--broker`) or a push
feed's (pv_feeds.py: fleet-telemetry, TeslaBle2Mqtt, Teslemetry); time runs
`--factor` times faster. A sampler looks at the simulated car every
`--sample` seconds and `pv_ledger.Ledger` adds up energy, import, unused
surplus, idle awake time and wake-ups. Prints one Markdown table per day.
"""

import argparse
import asyncio
import logging
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench import backends, pv_feeds  # noqa: E402
from bench.pv_day_report import print_table  # noqa: E402
from bench.pv_ledger import EvccLoop, Ledger  # noqa: E402
from bench.pv_model import PvDay  # noqa: E402
from bench.pv_session import FakeTeslaMate, serve  # noqa: E402
from wallbox.api.server import make_app  # noqa: E402
from wallbox.clock import ScaledClock  # noqa: E402
from wallbox.control.coalescing import Coalescing  # noqa: E402
from wallbox.control.controller import Controller  # noqa: E402
from wallbox.control.settings import Settings  # noqa: E402
from wallbox.mqtt.link import MqttLink, parse_broker_url  # noqa: E402
from wallbox.telemetry.teslamate_feed import TeslaMateFeed  # noqa: E402
from wallbox.vehicle.simulator.fleet import Fleet  # noqa: E402

START_SOC, LIMIT, CAPACITY_KWH = 40.0, 85, 75.0


async def sample(fleet: Fleet, clock: ScaledClock, day: PvDay, span: tuple[float, float],
                 evcc: EvccLoop, ledger: Ledger, start: float, every: float) -> None:  # fmt: skip
    """Integrate the car against the surplus, second by second, until cancelled.

    Between two looks the car's power is the mean of what it was at each (a
    command in between is seen a few seconds early or late); the surplus is
    taken every second."""
    car = fleet.cars[0]
    last, before = 0.0, car.power_kw()
    while True:
        await clock.sleep(every)
        now = min(clock.now() - start, span[1] - span[0])
        fleet.advance()
        power, asked, below = car.power_kw(), evcc.asked_a(), car.soc < car.limit
        t = last
        while t < now:
            dt = min(1.0, now - t)
            ledger.add(dt, day.surplus_a(span[0] + t), (before + power) / 2, asked, below)
            t += dt
        ledger.car(now - last, car.state == "online", power > 0)
        last, before = now, power


async def one_day(
    args: argparse.Namespace, day: PvDay, kind: str, telemetry: str, night: bool = False
) -> dict:
    """Sunrise to sunset, or (`night`) sunset to sunrise: the same loop, no surplus."""
    span = (day.length_s, 24 * 3600.0) if night else (0.0, day.length_s)
    clock = ScaledClock(args.night_factor if night else args.factor)
    # Plugged in the evening before: seen awake, then asleep (the day starts once the
    # wallbox says so), as a wallbox running all along would know the car at sunrise.
    fleet = Fleet.with_cars(1, clock, soc=START_SOC, limit=LIMIT, capacity_kwh=CAPACITY_KWH,
                            state="online")  # fmt: skip
    setup = await backends.start(kind, fleet)
    feed = subscriber = fake = push = None
    if telemetry in pv_feeds.FEEDS:
        push = await pv_feeds.start(telemetry, args.broker, fleet, clock, args.push_every)
        feed = push.feed
    elif telemetry == "teslamate":
        fake = FakeTeslaMate(args.broker, fleet, clock, args.teslamate_every)
        fake.start()
        feed = TeslaMateFeed(clock, namespace=fake.namespace, silence_s=300)
        subscriber = MqttLink(
            parse_broker_url(args.broker),
            topics=feed.topics,
            on_message=feed.on_message,
            on_connection=feed.on_connection,
        )
        subscriber.start()
    settings = Settings(cars=setup.cars, coalescing=coalescing(args.coalescing))
    controller = Controller(setup.backend, clock=clock, settings=settings, feed=feed)
    if feed is not None:
        feed.bind(controller)
    api_runner, api_port = await serve(make_app(controller, "bench-secret-0000"))
    base = f"http://127.0.0.1:{api_port}/tlwb/1/"
    evcc = EvccLoop()
    need = (LIMIT - START_SOC) / 100 * CAPACITY_KWH
    ledger = Ledger(need_kwh=need)
    loop_calls = 0
    async with aiohttp.ClientSession() as http:

        async def get(path: str) -> dict:
            nonlocal loop_calls
            loop_calls += 1
            async with http.get(base + path) as reply:
                return await reply.json()

        def ready(s: dict) -> bool:
            if s.get("plugged_in") is not True:  # seen awake first, however slow the start
                return False
            fleet.cars[0].sleep_after = args.sleep_after * 60
            if s.get("car_state") != "asleep":
                return False
            if push is not None:
                return push.ready(s)
            return not s.get("error") and s["telemetry"]["source"] == pv_feeds.SOURCES[telemetry]

        while not ready(await get("status")):
            await clock.sleep(1)
        loop_calls = 0
        for counter in (fleet.calls, fleet.billed, fleet.via):
            counter.clear()
        start = clock.now()
        sampler = asyncio.create_task(
            sample(fleet, clock, day, span, evcc, ledger, start, args.sample)
        )
        rounds = 0
        while (t := clock.now() - start) < span[1] - span[0]:
            status = await get("status")
            soc, limit = status.get("soc"), status.get("limitsoc")
            full = status.get("charging_state") == "Complete" or (
                soc is not None and limit is not None and soc >= limit
            )
            for action, value in evcc.round(t, day.surplus_a(span[0] + t), full):
                await get(f"control?{value}" if action == "enable" else f"set_amps?{value}")
            rounds += 1
            await clock.sleep(start + rounds * 30.0 - clock.now())  # evcc's ticker
        await asyncio.sleep(2 * args.sample / args.factor)  # the sampler's last look
        sampler.cancel()
        final = await get("status")
    await api_runner.cleanup()
    await setup.close()
    if fake is not None and subscriber is not None and feed is not None:
        subscriber.close()
        feed.stop()
        await fake.stop()
    if push is not None:
        await push.stop()
    report = fleet.calls_report()
    return {
        "day": "night" if night else "cloudy" if day.cloudy else "clear",
        "backend": kind,
        "telemetry": telemetry,
        "source": final.get("telemetry", {}).get("source"),
        "hours": (clock.now() - start) / 3600,
        "loop_calls": loop_calls,
        "calls": dict(report["by_endpoint"]),
        "billed": report["billed"],
        "ledger": ledger,
        "soc": fleet.cars[0].soc,
        "need_kwh": need,
    }


def coalescing(spec: str) -> Coalescing:
    """`step,short_wait,long_wait,deadband` (the wallbox_amps_* options); empty: defaults."""
    if not spec:
        return Coalescing()
    step, short, long, band = (float(v) for v in spec.split(","))
    return Coalescing(int(step), short, long, int(band))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default="cloudy,clear", help="cloudy, clear or both")
    parser.add_argument("--backends", default="ble,fleet,relay")
    parser.add_argument("--telemetry", default="none,teslamate",
                        help="any of " + ",".join(pv_feeds.CHOICES))  # fmt: skip
    parser.add_argument("--seed", type=int, default=31, help="the cloudy day's clouds and jitter")
    parser.add_argument("--hours", type=float, default=12.0, help="sunrise to sunset")
    parser.add_argument("--factor", type=float, default=600.0, help="simulated s per real s")
    parser.add_argument("--sample", type=float, default=5.0, help="the sampler's step, s")
    parser.add_argument("--sleep-after", type=float, default=10.0, help="idle minutes to sleep")
    parser.add_argument("--teslamate-every", type=float, default=10.0, help="TeslaMate's poll, s")
    parser.add_argument("--push-every", type=float, default=10.0, help="a push feed's look, s")
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--night", action="store_true", help="also sunset to sunrise")
    parser.add_argument("--night-factor", type=float, default=2400.0, help="the night's time")
    parser.add_argument("--coalescing", default="", help="step,short_wait,long_wait,deadband")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if bad := set(args.telemetry.split(",")) - set(pv_feeds.CHOICES):
        parser.error(f"--telemetry: unknown {', '.join(sorted(bad))}")
    for name in filter(None, args.days.split(",")):
        day = PvDay(seed=args.seed, cloudy=name == "cloudy", length_s=args.hours * 3600)
        results = []
        for kind in args.backends.split(","):
            for telemetry in args.telemetry.split(","):
                print(f"{name} day, {kind}, telemetry {telemetry}", file=sys.stderr, flush=True)
                results.append(asyncio.run(one_day(args, day, kind, telemetry)))
        print_table(day, results, args)
    if args.night:
        day, results = PvDay(seed=args.seed, length_s=args.hours * 3600), []
        for kind in args.backends.split(","):
            for telemetry in args.telemetry.split(","):
                print(f"night, {kind}, telemetry {telemetry}", file=sys.stderr, flush=True)
                run = one_day(args, day, kind, telemetry, night=True)
                results.append(asyncio.run(run))
        print_table(day, results, args, night=True)


if __name__ == "__main__":
    main()
