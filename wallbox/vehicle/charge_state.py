"""What the controller knows about a car: one snapshot of its charge state.

Snapshots come from the vehicle API (`vehicle_data`) and from TeslaMate's MQTT
telemetry (wallbox/telemetry/teslamate_feed.py); both produce the same `ChargeState`, so the
rules (status, planning, polling) never care where a value came from.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

# Tesla's `state`: "online" answers at once; "asleep"/"offline" answer 408 to
# data and commands until woken.
ONLINE = "online"
ASLEEP = "asleep"
OFFLINE = "offline"
UNKNOWN = "unknown"

# charging_state values; "Starting" means the contactors are closing.
CHARGING_STATES = {"Charging", "Starting"}


@dataclass(frozen=True, slots=True)
class ChargeState:
    read_at: float  # clock time (controller clock) the charge data was read
    car_state: str = UNKNOWN  # online / asleep / offline / unknown
    state_at: float | None = None  # when car_state was last learnt; None: at read_at
    plugged_in: bool | None = None  # None: not known (only the summary was read)
    charging_state: str | None = None  # Charging, Stopped, Complete, Disconnected, NoPower, ...
    battery_level: int | None = None  # soc, %
    charge_limit_soc: int | None = None  # the car's limit, %
    charge_current_request: int | None = None  # amps the car asks for
    charge_current_request_max: int | None = None  # the car's maximum for this charger
    charger_pilot_current: int | None = None  # what the charger offers
    charger_actual_current: int | None = None
    charger_voltage: int | None = None
    charger_power: float | None = None  # kW, as the API reports it (whole kW)
    charge_energy_added: float | None = None  # kWh this session
    time_to_full_charge: float | None = None  # hours to the car's limit
    fast_charger_present: bool | None = None  # a DC fast charger (Supercharger, CCS) is connected
    fast_charger_type: str | None = None  # Tesla, CCS, ... as the car names it
    latitude: float | None = None
    longitude: float | None = None
    geofence: str | None = None  # TeslaMate's geofence name, when it supplies one
    # Read over Bluetooth (TeslaBleHttpProxy): the car is within a few metres of the
    # proxy, so at home, though no position comes with the data.
    nearby: bool = False
    source: str = "api"  # "api", "summary", or the telemetry's name
    reported_at: float | None = None  # telemetry: its newest message about the car; API: None
    battery_range: float | None = None  # miles, as the API reports it (for /api/1's answers)

    @property
    def charging(self) -> bool:
        return self.charging_state in CHARGING_STATES

    @property
    def has_charge_data(self) -> bool:
        """False for a summary (sleep state only), True once charge_state was read."""
        return self.plugged_in is not None

    def age(self, now: float) -> float:
        """Seconds since the charge data was read."""
        return max(0.0, now - self.read_at)

    def state_age(self, now: float) -> float:
        """Seconds since the sleep state was learnt."""
        return max(0.0, now - (self.read_at if self.state_at is None else self.state_at))

    def with_car_state(self, car_state: str, now: float) -> "ChargeState":
        """What a summary (or a 408) tells: only the sleep state.

        Online: the charge data stays as old as it is. Asleep or offline: a
        sleeping car does not charge and cannot have been plugged in or out
        (plugging wakes it), so its data is as good as new, minus the charging.
        """
        if car_state not in (ASLEEP, OFFLINE):
            return replace(self, car_state=car_state, state_at=now)
        if not self.has_charge_data:
            return replace(self, car_state=car_state, state_at=now, read_at=now)
        return replace(
            self,
            car_state=car_state,
            state_at=now,
            read_at=now,
            charging_state="Stopped" if self.charging else self.charging_state,
            charger_actual_current=0 if self.charger_actual_current is not None else None,
            charger_power=0.0 if self.charger_power is not None else None,
            time_to_full_charge=None,
        )


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e9:
        return round(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) and value == value and abs(value) < 1e12:
        return float(value)
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def fast_charger_type(value: Any) -> str | None:
    """The car's name for a DC charger; it says `<invalid>` (or nothing) for none."""
    if isinstance(value, str) and value.strip() and not value.startswith("<"):
        return value.strip()
    return None


def plugged_in_from(charge: Mapping[str, Any]) -> bool | None:
    """The car's charge port has a cable when charging_state is anything but
    Disconnected (`charge_port_latch` alone is unreliable on some models)."""
    state = charge.get("charging_state")
    if isinstance(state, str) and state:
        return state != "Disconnected"
    return None


def from_vehicle_data(data: Mapping[str, Any], read_at: float) -> ChargeState:
    """A snapshot from `vehicle_data`'s `response` object (charge_state, drive_state).

    Tolerant by design: a missing or oddly typed field becomes None instead of
    failing the whole reading.
    """
    charge = data.get("charge_state") or {}
    drive = data.get("drive_state") or {}
    if not isinstance(charge, Mapping):
        charge = {}
    if not isinstance(drive, Mapping):
        drive = {}
    state = data.get("state")
    return ChargeState(
        read_at=read_at,
        car_state=state if isinstance(state, str) and state else ONLINE,
        plugged_in=plugged_in_from(charge),
        charging_state=charge.get("charging_state")
        if isinstance(charge.get("charging_state"), str)
        else None,
        battery_level=_int(charge.get("battery_level")),
        charge_limit_soc=_int(charge.get("charge_limit_soc")),
        battery_range=_float(charge.get("battery_range")),
        charge_current_request=_int(charge.get("charge_current_request")),
        charge_current_request_max=_int(charge.get("charge_current_request_max")),
        charger_pilot_current=_int(charge.get("charger_pilot_current")),
        charger_actual_current=_int(charge.get("charger_actual_current")),
        charger_voltage=_int(charge.get("charger_voltage")),
        charger_power=_float(charge.get("charger_power")),
        charge_energy_added=_float(charge.get("charge_energy_added")),
        time_to_full_charge=_float(charge.get("time_to_full_charge")),
        fast_charger_present=_bool(charge.get("fast_charger_present")),
        fast_charger_type=fast_charger_type(charge.get("fast_charger_type")),
        latitude=_float(drive.get("latitude")),
        longitude=_float(drive.get("longitude")),
    )
