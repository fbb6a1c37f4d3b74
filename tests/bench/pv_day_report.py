"""The PV-day bench's tables, in Markdown: cost per back-end and how well the car
followed the surplus."""

import argparse

from bench.backends import TITLES
from bench.pv_feeds import TITLES as FEEDS
from bench.pv_model import PvDay
from wallbox.vehicle.billing import cost_usd

CREDIT_USD = 10.0  # Tesla's monthly credit (PROTOCOL 5a)


def dollars(r: dict) -> tuple[str, str]:
    """Per day and per 30-day month; Bluetooth is free, a relay bills by its own plan."""
    day = cost_usd(r["billed"])
    if r["backend"] == "ble":
        return "$0", "$0"
    month = f"${30 * day:.2f}" + (" over" if 30 * day > CREDIT_USD else "")
    if r["backend"] == "relay":
        return f"(${day:.3f})", f"({month})"
    return f"${day:.3f}", month


def row(r: dict) -> str:
    led, billed = r["ledger"], r["billed"]
    kwh, charged = led.kwh, led.kwh.get("charged", 0.0)

    def share(name: str) -> str:
        mine, evcc = kwh.get(name, 0.0), kwh.get(f"asked_{name}", 0.0)
        pct = f" {100 * mine / charged:.0f} %" if charged else ""
        return f"{mine:.2f}{pct} ({evcc:.2f})"

    per_day, per_month = dollars(r)
    cells = [
        TITLES[r["backend"]],
        FEEDS[r["telemetry"]],
        *(str(billed.get(k, 0)) for k in ("data", "command", "wake")),
        per_day,
        per_month,
        str(led.wakeups),
        f"{led.awake_idle_s / 60:.0f}",
        f"{led.longest_to_sleep_s() / 60:.0f}",
        f"{charged:.1f}",
        share("import"),
        share("unused"),
    ]
    return "| " + " | ".join(cells) + " |"


def print_table(
    day: PvDay, results: list[dict], args: argparse.Namespace, night: bool = False
) -> None:
    if night:
        print(
            f"**The night**: {24 - day.length_s / 3600:.0f} h sunset to sunrise, the car "
            f"asleep, evcc's loop still reading the status every 30 s. Time "
            f"x{args.night_factor:.0f}. A whole day costs the day's dollars plus these.\n"
        )
    else:
        name = "Cloudy" if day.cloudy else "Clear"
        clouds = f", {len(day.clouds)} clouds (seed {day.seed})" if day.cloudy else ""
        ideal = results[0]["ledger"].kwh.get("ideal", 0.0) if results else 0.0
        print(
            f"**{name} day**: {day.length_s / 3600:.0f} h sunrise to sunset{clouds}; an ideal "
            f"follower would charge {ideal:.1f} kWh of the {results[0]['need_kwh']:.2f} the "
            f"car takes to its limit. Time x{args.factor:.0f}, the car asleep after "
            f"{args.sleep_after:.0f} idle minutes"
            + (f"; coalescing {args.coalescing}" if getattr(args, "coalescing", "") else "")
            + ".\n"
        )
    print(
        "| back-end | telemetry | data | cmd | wake | $/day | $/30 days | wake-ups "
        "| awake idle min | to sleep min | kWh | import kWh (evcc's) | unused kWh (evcc's) |"
    )
    print("| --- | --- |" + " ---: |" * 11)
    for r in results:
        print(row(r))
    print()
    for r in results:
        calls = ", ".join(f"{k} {n}" for k, n in sorted(r["calls"].items()) if k != "token")
        print(
            f"- {TITLES[r['backend']]}, {r['telemetry']}: {calls or 'no calls'}; "
            f"{r['loop_calls']} loop calls; SoC {r['soc']:.1f} % at the end; "
            f"state from {r['source']}"
        )
    print()
