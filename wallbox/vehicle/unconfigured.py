"""No vehicle back-end chosen yet: every call is `NotConfigured` with what to do, and
nothing is sent anywhere. The wallbox answers 503 with it, and the controller
logs it once (it retries the car list every minute, quietly)."""

from wallbox.vehicle.backend import Command, NotConfigured, Vehicle
from wallbox.vehicle.charge_state import ChargeState


class Unconfigured:
    def __init__(self, why: str) -> None:
        self.why = why

    async def vehicles(self) -> list[Vehicle]:
        raise NotConfigured(self.why)

    async def summary(self, car: Vehicle) -> str:
        raise NotConfigured(self.why)

    async def charge_state(self, car: Vehicle, read_at: float) -> ChargeState:
        raise NotConfigured(self.why)

    async def wake_up(self, car: Vehicle) -> str:
        raise NotConfigured(self.why)

    async def command(self, car: Vehicle, command: Command, value: int | None = None) -> None:
        raise NotConfigured(self.why)

    def close(self) -> None:
        pass
