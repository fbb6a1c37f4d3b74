"""Sending one planned step to the car, and taking its answer as news.

An accepted command is the car's word that it now does what it was told; a
refusal's reason says where it stands (command_news.py). Either way the
knowledge is updated at once and no read confirms it: reads are billed.
"""

import logging

from wallbox.control.car import CarController
from wallbox.control.command_news import FAILED, MET, accepted, refusal_verdict, refused
from wallbox.control.outcomes import Outcome
from wallbox.control.planner import Step
from wallbox.vehicle.backend import CommandRefused

logger = logging.getLogger(__name__)


async def send(car: CarController, step: Step) -> None:
    """Send `step` (twice for amps under 5 A); settles its goal on a telling refusal."""
    open_goal = car.goals.get(step.goal) if step.goal else None
    if step.goal is None:
        car.guard_sends += 1
        logger.info(
            "car %d: the SoC reached the target %s %%: stopping",
            car.number,
            car.intent.guard_soc,
        )
    for _ in range(step.repeat):
        try:
            await car.backend.command(car.vehicle, step.command, step.value)
        except CommandRefused as e:
            if (news := refused(car.car, e.reason, car.clock.now())) is not None:
                car.knowledge.told(news, car.clock.now())
            verdict, message = refusal_verdict(step.command, e.reason)
            if step.goal is None or step.goal not in car.goals:
                return
            if verdict == MET:
                car.settle(step.goal, Outcome(True, message))
            elif verdict == FAILED:
                car.settle(step.goal, Outcome(False, message, 409))
                car.note_error(message)
            else:
                raise
            return
    car.knowledge.told(
        accepted(car.car, step.command, step.value, car.clock.now()), car.clock.now()
    )
    if open_goal is not None:
        open_goal.sends += 1  # accepted; the next read tells whether it acted
    if car.feed is not None:
        car.feed.commanded(car.vehicle.vin, car.clock.now())
    value = "" if step.value is None else f" {step.value}"
    logger.info("car %d: sent %s%s", car.number, step.command.value, value)
