"""The SoC guard: how exactly it stops at a target below 50 %, and the reads it spends.

    .venv/bin/python tests/bench/soc_guard.py [--target 40] [--from 30]

The controller runs against the in-process car simulator on fake time, with the
default polling (a charging car is read every 120 s). For each charge rate,
from PV trickle to 22 kW AC, it charges from `--from` to the `--target` and
reports where charging stopped and how many `vehicle_data` reads the session
cost. A 75 kWh pack unless said; the car's own limit is 50 %, the backup.
"""

import argparse
import asyncio
import sys
from pathlib import Path

# tests/ for `support`, the checkout for the code: tests/wallbox etc. would
# otherwise shadow the packages they mirror.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1].parent))

from support.controller_rig import make_rig

RATES = [  # (name, amps, phases, pack kWh)
    ("PV trickle, 6 A 1-phase (1.4 kW)", 6, 1, 75.0),
    ("11 kW AC, 16 A 3-phase", 16, 3, 75.0),
    ("22 kW AC, 32 A 3-phase", 32, 3, 75.0),
    ("22 kW AC, 32 A 3-phase, 50 kWh pack", 32, 3, 50.0),
]


async def session(
    amps: int, phases: int, pack: float, start: float, target: int, eta: bool
) -> dict:
    rig = await make_rig(
        soc=start,
        amps_max=amps,
        amps_request=amps,
        pilot=amps,
        phases=phases,
        capacity_kwh=pack,
        reports_time_to_full=eta,
    )
    try:
        await rig.car.set_intent(charging=True, target_soc=target)
        await rig.settle()
        rig.fleet.calls.clear()  # the session's reads, from the start of charging
        took = await rig.clock.run_until(lambda: not rig.sim.charging, 12 * 3600, step=5)
        return {
            "final_soc": rig.sim.soc,
            "reads": rig.calls("vehicle_data"),
            "hours": took / 3600,
        }
    finally:
        rig.controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", type=int, default=40)
    parser.add_argument("--from", dest="start", type=float, default=30.0)
    args = parser.parse_args()
    print(
        f"| charge rate | the car's time to full | {args.start:g} -> {args.target} % took "
        "| stopped at | over the target | vehicle_data reads |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for eta in (True, False):
        for name, amps, phases, pack in RATES:
            result = asyncio.run(session(amps, phases, pack, args.start, args.target, eta))
            over = result["final_soc"] - args.target
            print(
                f"| {name} | {'reported' if eta else 'not reported'} | {result['hours']:.2f} h "
                f"| {result['final_soc']:.2f} % | {over:+.2f} points | {result['reads']} |"
            )
            print(f"  {name}, time to full {eta}: {result}", file=sys.stderr)


if __name__ == "__main__":
    main()
