"""Tesla API calls per hour behind the wallbox API during a PV-surplus session.

    .venv/bin/python tests/bench/pv_session.py [--hours 1] [--factor 120] [--loop 30]

A PV controller loop (like evcc's, every `--loop` simulated seconds) reads the
status and sends set_amps every round: the value changes every few minutes
(`--change-every`) and is the same otherwise. The wallbox API, its controller
and the teslapy back-end talk to the car simulator over real HTTP on loopback;
time runs `--factor` times faster, so an hour takes about half a minute.
Prints the loop's HTTP calls against the Tesla API calls the simulator counted,
by kind, and what they would cost on the Fleet API.
"""

import argparse
import asyncio
import logging
import sys
import tempfile
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from wallbox.clock import ScaledClock  # noqa: E402
from wallbox.controller import Controller, Settings  # noqa: E402
from wallbox.planner import PollPolicy  # noqa: E402
from wallbox.server import make_app  # noqa: E402
from wallbox.simulator import Fleet  # noqa: E402
from wallbox.simulator import make_app as make_simulator  # noqa: E402
from wallbox.teslapy_backend import TeslapyBackend  # noqa: E402
from wallbox.tokens import TokenFile  # noqa: E402

# Fleet API prices (PROTOCOL.md 5): calls per US dollar.
PER_DOLLAR = {"data": 500, "command": 1000, "wake": 50}
AMPS_PATTERN = [16, 12, 8, 10, 14, 6, 9, 16, 11, 7, 13, 15]  # PV surplus, in amps


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


async def session(args: argparse.Namespace) -> dict:
    clock = ScaledClock(args.factor)
    fleet = Fleet.with_cars(1, clock, soc=30.0, state="asleep" if args.asleep else "online")
    sim_runner, sim_port = await serve(make_simulator(fleet))
    with tempfile.TemporaryDirectory() as tmp:
        backend = TeslapyBackend(f"http://127.0.0.1:{sim_port}", TokenFile(Path(tmp) / "t.json"))
        policy = PollPolicy(charging_s=args.poll_charging, idle_s=args.poll_idle)
        controller = Controller(backend, clock=clock, settings=Settings(policy=policy))
        api_runner, api_port = await serve(make_app(controller, "bench-secret-0000"))
        base = f"http://127.0.0.1:{api_port}"
        loop_calls: Counter[str] = Counter()
        async with aiohttp.ClientSession() as http:

            async def get(path: str) -> dict:
                loop_calls[path.split("?")[0].rsplit("/", 1)[-1]] += 1
                async with http.get(base + path) as reply:
                    return await reply.json()

            while (await get("/tlwb/1/status")).get("error"):
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    report(asyncio.run(session(args)), args)


if __name__ == "__main__":
    main()
