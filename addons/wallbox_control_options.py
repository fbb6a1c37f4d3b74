"""The wallbox options that tune the charge controller: how often a car is read,
when amps changes go to a charging car (wallbox/control/coalescing.py), and the
credit the bill is compared with. Declared, checked and turned into `Settings`
fields here, so addons/wallbox_api.py stays about running the API."""

from typing import Any

from addons.options import check_range
from wallbox.control.coalescing import Coalescing
from wallbox.control.planner import PollPolicy

# Back-ends whose calls reach Tesla's Fleet API and are billed (relays: at Tesla's prices,
# an estimate of what they pass on); Bluetooth and the Owner API bill nothing.
BILLED_KINDS = frozenset({"fleet", "relay"})


def declare_control_options(loader) -> None:
    loader.add_option(
        "wallbox_poll_charging",
        int,
        900,
        "Seconds between reads of a charging car (without TeslaMate); nearer a target "
        "below 50 % it is read as the SoC guard needs. Between reads the status predicts "
        "SoC and energy.",
    )
    loader.add_option(
        "wallbox_amps_step",
        int,
        3,
        "A change of the charging current by this many amps or more is a step: a fall goes "
        "to a charging car at once (it would draw from the grid), a rise after "
        "wallbox_amps_short_wait. 1 with both waits 0: every change at once.",
    )
    loader.add_option(
        "wallbox_amps_short_wait",
        int,
        60,
        "Seconds a step up, or a smaller fall, must last before it goes to a charging car.",
    )
    loader.add_option(
        "wallbox_amps_long_wait",
        int,
        300,
        "Seconds a smaller rise, or a change within wallbox_amps_deadband either way, must "
        "last before it goes to a charging car.",
    )
    loader.add_option(
        "wallbox_amps_deadband",
        int,
        1,
        "Changes of at most this many amps (evcc's jitter) wait wallbox_amps_long_wait.",
    )
    loader.add_option(
        "wallbox_api_credit",
        int,
        10,
        "Tesla's monthly credit in US dollars: the status's api_usage and one log warning "
        "a month compare the projected bill with it.",
    )
    loader.add_option(
        "wallbox_poll_idle",
        int,
        900,
        "Seconds between looks at an idle or unplugged car, and at a sleeping one not known "
        "to be plugged in (wallbox_poll_asleep); a sleeping car is only asked whether it "
        "sleeps, which never wakes it.",
    )
    loader.add_option(
        "wallbox_poll_asleep",
        int,
        3600,
        "Seconds between asking a car asleep while plugged in whether it still sleeps "
        "(each ask is billed; plugging in wakes a car, so an unplugged one is asked every "
        "wallbox_poll_idle). Never shorter than wallbox_poll_idle.",
    )


def check_control_options(updated: set[str]) -> None:
    check_range(updated, "wallbox_poll_charging", 30, 2**31, "30 s or more")
    check_range(updated, "wallbox_poll_idle", 60, 2**31, "60 s or more")
    check_range(updated, "wallbox_poll_asleep", 60, 2**31, "60 s or more")
    check_range(updated, "wallbox_amps_step", 1, 48, "1..48 A")
    check_range(updated, "wallbox_amps_short_wait", 0, 3600, "0..3600 s")
    check_range(updated, "wallbox_amps_long_wait", 0, 3600, "0..3600 s")
    check_range(updated, "wallbox_amps_deadband", 0, 48, "0..48 A")
    check_range(updated, "wallbox_api_credit", 0, 10_000, "0..10000 US dollars")


def control_settings(o: Any, *, billed: bool) -> dict[str, Any]:
    """The `Settings` fields these options set."""
    return {
        "policy": PollPolicy(
            charging_s=o.wallbox_poll_charging,
            idle_s=o.wallbox_poll_idle,
            asleep_s=o.wallbox_poll_asleep,
        ),
        "coalescing": Coalescing(
            step_a=o.wallbox_amps_step,
            short_wait_s=o.wallbox_amps_short_wait,
            long_wait_s=o.wallbox_amps_long_wait,
            deadband_a=o.wallbox_amps_deadband,
        ),
        "billed": billed,
        "credit_usd": float(o.wallbox_api_credit),
    }
