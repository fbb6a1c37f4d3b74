"""The simulated account: its cars, time, the API's semantics (what each call
answers, refuses or costs), faults on demand, and the call counter."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from wallbox.clock import Clock, RealClock
from wallbox.vehicle.simulator.car import SimCar


class SimError(Exception):
    """An HTTP error answer: status, reason text, optional Retry-After."""

    def __init__(self, status: int, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class Fault:
    status: int
    count: int = 1
    retry_after: float | None = None
    match: str = ""  # only endpoints whose name contains this


# Endpoint names counted per call; "kind" is what Tesla bills it as.
KINDS = {
    "vehicles": "data",
    "summary": "data",
    "vehicle_data": "data",
    "wake_up": "wake",
    "region": "data",
    "body_controller_state": "data",
    "auto_wake": "wake",
    "token": "auth",  # sign-in and refreshes: never billed
    "forbidden": "refused",  # the closed Owner API's 403, whatever was asked
    "unauthorized": "refused",  # a 401 for a token not accepted
    "misdirected": "data",  # the Fleet API's 421 to a call outside the region
    "unsigned": "command",  # its 403 to a command that was not signed
}


class Fleet:
    """The simulated account: cars, time, faults and the call counter."""

    def __init__(self, cars: list[SimCar], clock: Clock | None = None) -> None:
        self.cars = cars
        self.clock = clock or RealClock()
        self.calls: Counter[str] = Counter()
        self.via: Counter[tuple[str, str]] = Counter()  # (site, endpoint): who took which call
        self.billed: Counter[str] = Counter()  # answers under 500 by kind (HTTP layer)
        self.bearer: Counter[str] = Counter()  # tokens the API calls carried
        self.accepted_tokens: set[str] = set()  # empty: any token, or none
        self.refresh_tokens: set[str] = set()  # the refresh tokens not yet spent
        self.client_id = ""  # the token endpoint's one client (empty: any)
        self.faults: list[Fault] = []
        self._advanced_to = self.clock.now()
        for car in cars:
            car.last_activity = self._advanced_to

    @classmethod
    def with_cars(
        cls, count: int = 1, clock: Clock | None = None, vins: tuple[str, ...] = (), **settings: Any
    ) -> "Fleet":
        """`vins`: the first cars' VINs (real-looking ones, for wallbox_cars); the rest
        are 5YJ3SIM0000000001 and up, which no real VIN can be (no I in VINs)."""
        cars = [
            SimCar(
                vin=vins[n - 1] if n <= len(vins) else f"5YJ3SIM0000{n:06d}",
                id=9_000_000 + n,
                name=f"Sim {n}",
                **settings,
            )
            for n in range(1, count + 1)
        ]
        return cls(cars, clock)

    # --- time -----------------------------------------------------------------

    def advance(self) -> None:
        now = self.clock.now()
        dt = now - self._advanced_to
        self._advanced_to = now
        for car in self.cars:
            car.advance(dt, now)

    def car(self, key: str) -> SimCar:
        for car in self.cars:
            if key in (car.vin, str(car.id)):
                return car
        raise SimError(404, f"no vehicle {key}")

    # --- the API, as the HTTP layer and SimulatedBackend both use it -------------

    def _call(self, endpoint: str, via: str = "") -> None:
        """Count the call, then play a queued fault if one matches."""
        self.advance()
        self.calls[endpoint] += 1
        if via:
            self.via[(via, endpoint)] += 1
        for fault in self.faults:
            if fault.count > 0 and fault.match in endpoint:
                fault.count -= 1
                self.faults = [f for f in self.faults if f.count > 0]
                raise SimError(fault.status, "simulated fault", fault.retry_after)

    def list_vehicles(self) -> list[dict[str, Any]]:
        self._call("vehicles")
        return [car.summary() for car in self.cars]

    def summary(self, key: str) -> dict[str, Any]:
        self._call("summary")
        return self.car(key).summary()

    def vehicle_data(self, key: str) -> dict[str, Any]:
        self._call("vehicle_data")
        car = self.car(key)
        if car.state != "online":
            raise SimError(408, f"vehicle unavailable: {car.state}")
        car.last_activity = self.clock.now()
        return car.vehicle_data(self.clock.wall())

    def body_controller_state(self, key: str) -> dict[str, Any]:
        """What TeslaBleHttpProxy reads over BLE's security domain: it never wakes the car."""
        self._call("body_controller_state")
        car = self.car(key)
        awake = "AWAKE" if car.state == "online" else "ASLEEP"
        return {
            "vehicle_lock_state": "VEHICLELOCKSTATE_LOCKED",
            "vehicle_sleep_status": f"VEHICLE_SLEEP_STATUS_{awake}",
            "user_presence": "VEHICLE_USER_PRESENCE_NOT_PRESENT",
        }

    def wake_now(self, key: str) -> None:
        """A command over BLE wakes a sleeping car itself (TeslaBleHttpProxy's auto-wake)."""
        car = self.car(key)
        if car.state != "online":
            self._call("auto_wake")
            car.state, car.waking_until, car.last_activity = "online", None, self.clock.now()

    def wake_up(self, key: str, via: str = "") -> dict[str, Any]:
        self._call("wake_up", via)
        car = self.car(key)
        now = self.clock.now()
        if car.state != "online" and car.waking_until is None:
            car.waking_until = now + car.wake_delay
            car.advance(0, now)  # a zero delay wakes at once
        return car.summary()

    def command(self, key: str, name: str, body: dict[str, Any], via: str = "") -> dict[str, Any]:
        self._call(f"command/{name}", via)
        car = self.car(key)
        if car.state != "online":
            raise SimError(408, f"vehicle unavailable: {car.state}")
        now = self.clock.now()
        car.last_activity = now
        reason = self._execute(car, name, body)
        car.commands.append((now, name, body))
        return {"result": reason is None, "reason": reason or ""}

    def _execute(self, car: SimCar, name: str, body: dict[str, Any]) -> str | None:
        """Apply a command; returns the refusal reason, or None when done."""
        if name == "charge_start":
            if not car.plugged_in:
                return "disconnected"
            if car.charging and not car.no_power:
                return "is_charging"
            if car.soc >= car.limit:
                car.complete = True
                return "complete"
            car.charging, car.complete = True, False
            return None
        if name == "charge_stop":
            if not car.charging:
                return "not_charging"
            car.charging = False
            return None
        if name == "set_charging_amps":
            amps = _number(body.get("charging_amps"))
            if amps is None:
                return "invalid charging_amps"
            amps = max(0, min(int(amps), car.amps_max))
            if amps < 5:
                # The quirk: under 5 A counts only as the second of two sends while charging.
                if car.charging and car.low_amps_pending == amps:
                    car.amps_request, car.low_amps_pending = amps, None
                elif car.charging:
                    car.amps_request, car.low_amps_pending = 5, amps
                return None
            car.amps_request, car.low_amps_pending = amps, None
            return None
        if name == "set_charge_limit":
            percent = _number(body.get("percent"))
            if percent is None or not 50 <= percent <= 100:
                return "invalid charge limit"
            if int(percent) == car.limit:
                return "already_set"
            car.limit = int(percent)
            if car.soc < car.limit:
                car.complete = False
            return None
        return f"unknown command {name}"

    # --- control, for tests ---------------------------------------------------

    def patch(self, key: str, changes: dict[str, Any]) -> SimCar:
        self.advance()
        car = self.car(key)
        allowed = set(SimCar.__dataclass_fields__) - {"vin", "id", "commands", "waking_until"}
        unknown = set(changes) - allowed
        if unknown:
            raise SimError(400, f"unknown fields {sorted(unknown)}; known: {sorted(allowed)}")
        for name, value in changes.items():
            setattr(car, name, value)
        if "state" in changes and changes["state"] != "online":
            car.charging, car.waking_until = False, None
        if "plugged_in" in changes:
            car.charging, car.complete, car.low_amps_pending = False, False, None
            if changes["plugged_in"]:
                car.energy_added = 0.0
        if "soc" in changes or "limit" in changes:
            car.complete = car.soc >= car.limit and not car.charging
        car.last_activity = self.clock.now()
        return car

    def calls_report(self) -> dict[str, Any]:
        by_kind: Counter[str] = Counter()
        for endpoint, n in self.calls.items():
            by_kind[KINDS.get(endpoint, "command")] += n
        return {
            "total": sum(self.calls.values()),
            "by_kind": dict(by_kind),
            "by_endpoint": dict(self.calls),
            "via": {f"{site} {endpoint}": n for (site, endpoint), n in self.via.items()},
            "billed": dict(self.billed),
            "bearer": dict(self.bearer),
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):  # TeslaBleHttpProxy's README sends amps as a string
        try:
            return float(value)
        except ValueError:
            return None
    return None
