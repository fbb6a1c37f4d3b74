"""Schema-driven fuzzing of the wallbox API from its own OpenAPI description:
every generated request gets an answer the description allows, never a crash."""

import asyncio
import threading

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from wallbox.api.server import make_app
from wallbox.clock import ScaledClock
from wallbox.control.controller import Controller
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def wallbox_url():
    """The wallbox API on a simulated car, served from a thread of its own; time runs
    100x faster, so a request that waits (`wait=120`) is answered within seconds."""
    started = threading.Event()
    state: dict = {}

    async def serve() -> None:
        clock = ScaledClock(100)
        fleet = Fleet.with_cars(2, clock, soc=45.0)
        controller = Controller(SimulatedBackend(fleet), clock=clock)
        runner = web.AppRunner(make_app(controller, "fuzz-secret-0000000000"), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}"
        state["stop"] = asyncio.Event()
        started.set()
        await state["stop"].wait()
        await runner.cleanup()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(20), "the wallbox API did not start"
    yield state["url"]
    loop.call_soon_threadsafe(state["stop"].set)
    thread.join(10)


def operations(url: str) -> list:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


# schemathesis' own pytest plugin does not run under pytest 9 yet, so each
# operation's strategy is driven by Hypothesis directly.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_is_one_the_description_allows(wallbox_url, mode):
    """Valid requests and invalid ones (wrong types, out of range, missing parts):
    each answer must be documented and well-formed, invalid ones a 4xx."""
    found = operations(wallbox_url)
    assert len(found) >= 10, [op.label for op in found]
    fuzzed = 0
    for operation in found:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case):
            response = case.call(base_url=wallbox_url, timeout=30)
            # Every check but "schema-valid data is accepted": the description gives
            # the absolute ranges, while the car narrows them (its maximum amps on
            # this charger), which a static description cannot say.
            case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])

        try:
            conforms()
        except Unsatisfiable:
            # The description leaves nothing invalid to send (no parameters, or only a
            # free-form car number or VIN): nothing to fuzz negatively there.
            assert mode is GenerationMode.NEGATIVE
            continue
        fuzzed += 1
    assert fuzzed >= 10 if mode is GenerationMode.POSITIVE else fuzzed >= 5
