"""The simulator as an in-process `VehicleBackend`: controller tests run it on fake time."""

from wallbox.vehicle.backend import Command, CommandRefused, Vehicle, command_body, error_from_http
from wallbox.vehicle.charge_state import ChargeState, from_vehicle_data
from wallbox.vehicle.simulator.fleet import Fleet, SimError


class SimulatedBackend:
    """A VehicleBackend on a Fleet, without HTTP: controller tests run it on fake time."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def _error(self, error: SimError, what: str):
        return error_from_http(
            error.status,
            error.reason,
            None if error.retry_after is None else str(error.retry_after),
            self.fleet.clock.wall(),
            what,
        )

    async def vehicles(self) -> list[Vehicle]:
        try:
            listed = self.fleet.list_vehicles()
        except SimError as e:
            raise self._error(e, "list vehicles") from None
        return [Vehicle(v["vin"], v["id_s"], v["display_name"], v["state"]) for v in listed]

    async def summary(self, car: Vehicle) -> str:
        try:
            return self.fleet.summary(car.id or car.vin)["state"]
        except SimError as e:
            raise self._error(e, "read the sleep state") from None

    async def charge_state(self, car: Vehicle, read_at: float) -> ChargeState:
        try:
            data = self.fleet.vehicle_data(car.id or car.vin)
        except SimError as e:
            raise self._error(e, "read the charge state") from None
        return from_vehicle_data(data, read_at)

    async def wake_up(self, car: Vehicle) -> str:
        try:
            return self.fleet.wake_up(car.id or car.vin)["state"]
        except SimError as e:
            raise self._error(e, "wake up") from None

    async def command(self, car: Vehicle, command: Command, value: int | None = None) -> None:
        body = command_body(command, value)
        try:
            answer = self.fleet.command(car.id or car.vin, command.value, body)
        except SimError as e:
            raise self._error(e, command.value) from None
        if not answer["result"]:
            raise CommandRefused(command.value, answer["reason"])

    def close(self) -> None:
        pass
