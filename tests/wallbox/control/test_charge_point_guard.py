"""The controller never acts on a car charging somewhere else (charge_point.py's rule),
against the in-process simulator on fake time."""

import asyncio
from dataclasses import replace

import pytest

from support.controller_rig import make_rig
from wallbox.control.geo import PvLocation
from wallbox.control.outcomes import NotAtChargePoint
from wallbox.control.planner import Goal
from wallbox.control.settings import Settings
from wallbox.vehicle.simulator.car import HOME

AT_HOME = Settings(pv_locations=(PvLocation(*HOME, 100),))
SUPERCHARGER = {
    "latitude": HOME[0] + 2.25,
    "longitude": HOME[1],
    "fast_charger": "Tesla",
    "dc_kw": 50.0,
}


async def waited(rig, **wish):
    """`set_intent(..., wait=60)` while the fake clock moves on."""
    task = asyncio.create_task(rig.car.set_intent(wait=60, **wish))
    await rig.clock.run_until(task.done, 120)
    return task.result()


async def supercharging(settings=AT_HOME):
    rig = await make_rig(settings=settings, soc=30)
    rig.fleet.patch(rig.sim.vin, {**SUPERCHARGER, "charging": True})
    await rig.clock.advance(901)  # the next look at an idle car
    return rig


async def test_a_car_dc_charging_away_is_no_car_here():
    rig = await supercharging()
    status = rig.car.status()
    assert (status["status"], status["evcc_status"], status["connected"]) == (0, "A", False)
    assert status["status_text"].startswith("no car at this charge point: the car is DC fast")
    assert status["at_charge_point"] is False and status["plugged_in"] is True
    rig.controller.stop()


@pytest.mark.parametrize(
    "wish", [{"charging": False}, {"charging": True}, {"amps": 8}, {"target_soc": 60}]
)
async def test_no_wish_reaches_a_car_charging_elsewhere(wish):
    rig = await supercharging()
    with pytest.raises(NotAtChargePoint, match="no car at this charge point") as refused:
        await rig.car.set_intent(**wish)
    assert refused.value.status == 409
    await rig.clock.advance(600)
    assert rig.commands() == [] and rig.sim.charging and not rig.car.goals
    rig.controller.stop()


async def test_the_soc_guard_does_not_stop_a_car_charging_elsewhere():
    rig = await make_rig(settings=AT_HOME, soc=30)
    await rig.car.set_intent(target_soc=35)
    await rig.settle()
    rig.fleet.patch(rig.sim.vin, {**SUPERCHARGER, "charging": True, "soc": 40})
    await rig.clock.advance(300)
    assert [name for name, _ in rig.commands()] == ["set_charge_limit"]
    assert rig.sim.charging
    rig.controller.stop()


async def test_an_old_reading_is_checked_before_the_wish_fails():
    rig = await make_rig(settings=AT_HOME, soc=30)
    rig.fleet.patch(rig.sim.vin, {**SUPERCHARGER, "charging": True})  # drove off meanwhile
    rig.car.car = replace(rig.car.car, read_at=rig.clock.now() - 2000)  # known: home, idle
    result = await waited(rig, charging=False)
    assert result.outcomes[Goal.CHARGING].status == 409
    assert "no car at this charge point" in result.outcomes[Goal.CHARGING].message
    assert rig.commands() == [] and rig.sim.charging
    rig.controller.stop()


async def test_at_home_nothing_changes():
    rig = await make_rig(settings=AT_HOME, soc=30)
    await waited(rig, charging=True, amps=10)
    assert rig.sim.charging and rig.sim.amps_request == 10
    assert rig.car.status()["at_charge_point"] is True
    await waited(rig, charging=False)
    assert not rig.sim.charging
    rig.controller.stop()


async def test_the_option_restores_control_everywhere():
    settings = Settings(pv_locations=AT_HOME.pv_locations, control_everywhere=True)
    rig = await supercharging(settings)
    assert rig.car.status()["status"] == 3
    await waited(rig, charging=False)
    assert [name for name, _ in rig.commands()] == ["charge_stop"] and not rig.sim.charging
    rig.controller.stop()


async def test_an_unknown_position_refuses_only_a_stop():
    rig = await make_rig(settings=AT_HOME, soc=30)
    rig.fleet.patch(rig.sim.vin, {"latitude": None, "longitude": None})
    await rig.clock.advance(901)
    assert "position is not known yet" in rig.car.status()["status_text"]
    await waited(rig, charging=True)
    assert rig.sim.charging  # starting is fine
    with pytest.raises(NotAtChargePoint, match="not stopping"):
        await rig.car.set_intent(charging=False)
    assert rig.sim.charging
    rig.controller.stop()


async def test_without_a_pv_location_only_a_dc_charger_is_elsewhere():
    rig = await supercharging(Settings())
    assert rig.car.status()["status"] == 0
    rig.fleet.patch(rig.sim.vin, {"fast_charger": None})  # an AC charger far from home
    await rig.clock.advance(901)  # the next read of a charging car
    assert rig.car.status()["status"] == 3
    await waited(rig, charging=False)
    assert not rig.sim.charging
    rig.controller.stop()
