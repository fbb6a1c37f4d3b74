"""teslahome's MQTT discovery against a real Home Assistant core (issue 26).

Home Assistant 2025.4.4 runs from a venv of its own outside the clone, which `make test`
makes once (`make ha-venv`) and names in TESLAHOME_HASS. The test starts HA with its MQTT
integration on the real Mosquitto, the car simulator and teslahome, then walks what a user
lives through (support/ha_walk.py), waiting on HA's states and the simulated car, never on
sleeps. It fails on any line of HA's log that refuses one of our payloads or names a
deprecated discovery key, and proves that grep works by sending the old `unknown` once.
"""

import os
import time
import uuid
from pathlib import Path

import pytest

from support.ha_walk import SEQUENCES, Rig, log_grep_sees_a_refusal, show
from support.home_assistant import HomeAssistant
from support.mitm import Mitmdump
from support.mqtt_watch import Watcher
from support.tesla_sim import Simulator
from support.wallbox_client import wallbox_options

pytestmark = [pytest.mark.e2e, pytest.mark.service, pytest.mark.homeassistant]


@pytest.fixture
def hass() -> Path:
    named = os.environ.get("TESLAHOME_HASS", "")
    if not named:
        pytest.skip("TESLAHOME_HASS is not set: `make test` or `make ha-check` installs HA")
    if not Path(named).is_file():
        pytest.skip(f"no Home Assistant at {named}: `make ha-venv` installs one")
    return Path(named)


@pytest.mark.timeout(900)  # two HA starts, a restart of teslahome, the car at 20x
def test_home_assistant_sees_and_drives_the_car_without_a_refused_payload(
    tmp_path, confdir, broker, hass
):
    tag = uuid.uuid4().hex[:8]
    prefix, ha_prefix = f"th-{tag}", f"ha-{tag}"  # topics of this run only
    ha = HomeAssistant(hass, tmp_path, (broker.url.host, broker.url.port), ha_prefix)
    with (
        Simulator(tmp_path, time_factor=20, asleep=True) as sim,
        Watcher(broker.url, f"{prefix}/#", f"{ha_prefix}/#") as mqtt,  # clears them at exit
    ):
        options = wallbox_options(
            sim.url,
            mqtt_url=f"mqtt://{broker.url.host}:{broker.url.port}",
            mqtt_prefix=prefix,
            mqtt_ha_prefix=ha_prefix,
            mqtt_interval=0,
        )
        proxy = Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening at")
        rig = Rig(ha, sim, proxy, mqtt, prefix)
        try:
            for step in SEQUENCES:
                started = time.monotonic()
                try:
                    step(rig)
                except Exception:
                    show(rig, f"{step.__name__} (failed)")
                    raise
                print(f"ok   {step.__name__} ({time.monotonic() - started:.1f} s)")
            print(f"  car's commands: {[c[1:] for c in sim.car()['commands']]}")
            assert ha.refusals() == [], f"HA refused our payloads, see {ha.log_path}"
            assert log_grep_sees_a_refusal(rig) > 0  # else the check above proves nothing
        finally:
            proxy.stop()
            ha.stop()
