"""What every telemetry source's end-to-end tests check alike (TeslaMate, the push
feeds, the relay streams): the car driven with the feed alone and never read, the
one read a silent feed brings, and a sleeping car that keeps its feed through the
silence. `silent` is the fake feed's switch (set: it publishes nothing)."""

import threading
import time
from datetime import datetime

from support.tesla_sim import Simulator, until
from support.wallbox_client import Wallbox


def at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def drive_on_the_feed(wallbox: Wallbox, sim: Simulator, feed_name: str) -> dict:
    """Start the charge and set 10 A through /tlwb, each seen back through the feed;
    no read meanwhile, not even at three charging polls. Returns the status at 10 A."""
    sim.patch({"soc": 55})
    until(lambda: wallbox.status()["soc"] == 55, 10, what="the new SoC")
    code, body = wallbox.get("/tlwb/1/control?1&wait=120")
    assert code == 200 and body["status"] == 3, body
    code, body = wallbox.get("/tlwb/1/set_amps?10&wait=120")
    assert code == 200 and sim.car()["amps_request"] == 10, body
    status = until(
        lambda: (s := wallbox.status())["amps"] == 10 and s,
        10,
        what=f"10 A reported by {feed_name}",
    )
    time.sleep(5)  # 100 simulated seconds: three 30-second polls of a charging car, skipped
    assert sim.reads() == 0, sim.calls()
    return status


def silence_brings_one_read(wallbox: Wallbox, sim: Simulator, silent: threading.Event) -> dict:
    """Silence the feed of a charging car whose next poll is hours away (the test's
    poll_charging): the loss itself, not a clock, must bring exactly one read.
    Returns the status that named the loss."""
    silent.set()
    status = wallbox.wait_source("tesla_api")
    lost = at(status["telemetry"]["since"])
    until(lambda: sim.reads() >= 1, 20, what="the read the loss brings")
    read = until(lambda: (s := wallbox.status())["updated"] and at(s["updated"]) >= lost and s, 10)
    assert sim.reads() == 1 and read["telemetry"]["source"] == "tesla_api", sim.calls()
    return status


def asleep_through_the_silence(
    wallbox: Wallbox, sim: Simulator, silent: threading.Event, source: str, quiet_s: float
) -> None:
    """A sleeping car says nothing: its feed stays trusted for `quiet_s` of silence
    (real seconds), and nothing is read."""
    sim.patch({"state": "asleep"})
    until(lambda: wallbox.status()["car_state"] == "asleep", 10, what="asleep")
    sim.reset_calls()
    silent.set()
    time.sleep(quiet_s)  # nothing to wait for: what is checked is that nothing happens
    status = wallbox.status()
    assert status["telemetry"]["source"] == source and sim.reads() == 0, status
    assert "known, not silent" in status["telemetry"]["reason"]
