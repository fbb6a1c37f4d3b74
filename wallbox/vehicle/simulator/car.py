"""One simulated car: sleep, wake-up, charging physics and the data it reports."""

import math
from dataclasses import dataclass, field
from typing import Any

HOME = (48.137400, 11.575500)  # where simulated cars are parked unless moved


@dataclass
class SimCar:
    vin: str
    id: int
    name: str
    state: str = "online"  # online / asleep / offline
    wake_delay: float = 8.0
    sleep_after: float | None = None
    plugged_in: bool = True
    charging: bool = False
    complete: bool = False
    no_power: bool = False  # the charger offers nothing: the car accepts charge_start, draws 0
    soc: float = 40.0
    capacity_kwh: float = 75.0
    limit: int = 80
    amps_request: int = 16
    amps_max: int = 16
    pilot: int = 16
    phases: int = 3
    volts: int = 230
    energy_added: float = 0.0
    latitude: float = HOME[0]
    longitude: float = HOME[1]
    waking_until: float | None = None
    last_activity: float = 0.0
    low_amps_pending: int | None = None  # first of the two sends of a value under 5 A
    reports_time_to_full: bool = True  # False: time_to_full_charge is null, as some back-ends
    fast_charger: str | None = None  # a DC charger's type (Tesla, CCS): plugged in there
    dc_kw: float = 120.0  # what the DC charger delivers
    commands: list[tuple[float, str, Any]] = field(default_factory=list)  # (time, name, value)

    def charging_state(self) -> str:
        if not self.plugged_in:
            return "Disconnected"
        if self.charging:
            return "NoPower" if self.no_power else "Charging"
        if self.complete:
            return "Complete"
        return "Stopped"

    def amps(self) -> int:
        """The AC current drawn; on a DC charger the car reports none."""
        if not self.charging or self.no_power or not self.plugged_in or self.fast_charger:
            return 0
        return max(0, min(self.amps_request, self.pilot, self.amps_max))

    def power_kw(self) -> float:
        if self.fast_charger:
            return self.dc_kw if self.charging and self.plugged_in and not self.no_power else 0.0
        return self.phases * self.volts * self.amps() / 1000.0

    def advance(self, dt: float, now: float) -> None:
        if self.waking_until is not None and now >= self.waking_until:
            self.state, self.waking_until, self.last_activity = "online", None, now
        if dt <= 0:
            return
        power = self.power_kw()
        if power > 0 and self.state == "online":
            if self.soc >= self.limit:
                self.charging, self.complete = False, True
            else:
                needed_h = (self.limit - self.soc) / 100.0 * self.capacity_kwh / power
                hours = min(dt / 3600.0, needed_h)
                energy = power * hours
                self.energy_added += energy
                self.soc = min(100.0, self.soc + energy / self.capacity_kwh * 100.0)
                if hours >= needed_h:
                    self.soc = float(self.limit)
                    self.charging, self.complete = False, True
        if self.charging:
            self.last_activity = now
        elif (
            self.sleep_after is not None
            and self.state == "online"
            and now - self.last_activity >= self.sleep_after
        ):
            self.state = "asleep"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "id_s": str(self.id),
            "vehicle_id": self.id + 1000,
            "vin": self.vin,
            "display_name": self.name,
            "state": self.state,
            "in_service": False,
        }

    def vehicle_data(self, now_epoch: float) -> dict[str, Any]:
        amps = self.amps()
        charging = self.charging_state() in ("Charging", "NoPower")
        return {
            **self.summary(),
            "charge_state": {
                "battery_level": math.floor(self.soc),
                "usable_battery_level": math.floor(self.soc),
                "charge_limit_soc": self.limit,
                "battery_range": round(self.soc * 3.1, 2),  # miles, about a Model 3's
                "charging_state": self.charging_state(),
                "charge_current_request": self.amps_request,
                "charge_current_request_max": self.amps_max,
                "charger_pilot_current": self.pilot if self.plugged_in else 0,
                "charger_actual_current": amps,
                "charger_voltage": self.volts if amps else (2 if self.plugged_in else 0),
                "charger_power": round(self.power_kw()),
                # the car reports 2 phases on many 3-phase chargers: never trust it; none on DC
                "charger_phases": (2 if self.phases == 3 else self.phases)
                if charging and not self.fast_charger
                else None,
                "fast_charger_present": bool(self.fast_charger) and self.plugged_in,
                "fast_charger_type": self.fast_charger
                if self.plugged_in and self.fast_charger
                else "<invalid>",
                "charge_energy_added": round(self.energy_added, 2),
                "charge_port_door_open": self.plugged_in,
                "time_to_full_charge": self._time_to_full() if self.reports_time_to_full else None,
                "timestamp": int(now_epoch * 1000),
            },
            "drive_state": {
                "latitude": self.latitude,
                "longitude": self.longitude,
                "shift_state": None,
                "timestamp": int(now_epoch * 1000),
            },
        }

    def _time_to_full(self) -> float:
        power = self.power_kw()
        if power <= 0 or self.soc >= self.limit:
            return 0.0
        return round((self.limit - self.soc) / 100.0 * self.capacity_kwh / power, 2)
