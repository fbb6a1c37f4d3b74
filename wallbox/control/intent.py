"""What a caller wants from a car, and the checks its values must pass.

An intent has three independent parts: charging on/off, the charging current,
and the target SoC. Each request changes only the parts it names; the newest
value of each part wins.
"""

from dataclasses import dataclass, replace
from typing import Any

CAR_MIN_LIMIT = 50  # the car refuses a charge limit below this
AMPS_CEILING = 48  # the highest any Tesla on-board charger takes, when the car has not said
LOW_AMPS = 5  # under this, the API needs the value twice and only while charging


class IntentError(ValueError):
    """A value the API cannot accept; the message says what would be accepted."""


SWITCH_ON = frozenset({"1", "true", "on", "yes", "start"})
SWITCH_OFF = frozenset({"0", "false", "off", "no", "stop"})


def parse_switch(text: str, name: str = "control") -> bool:
    value = text.strip().lower()
    if value in SWITCH_ON:
        return True
    if value in SWITCH_OFF:
        return False
    raise IntentError(f"{name} must be 1 (start charging) or 0 (stop), got {text[:20]!r}")


def _whole_number(text: str, name: str, example: str) -> int:
    value = text.strip()
    digits = value[1:] if value.startswith("-") else value
    if not digits or len(digits) > 6 or not (digits.isascii() and digits.isdigit()):
        raise IntentError(f"{name} must be a whole number, e.g. {example}; got {text[:20]!r}")
    return int(value)


def parse_amps(text: str, car_max: int | None) -> int:
    return check_amps(_whole_number(text, "amps", "set_amps?16"), car_max)


def check_amps(amps: int, car_max: int | None) -> int:
    """Whole amps within 1 .. the car's maximum for this charger (when known)."""
    ceiling = car_max if car_max and car_max > 0 else AMPS_CEILING
    if not 1 <= amps <= ceiling:
        source = "the car's maximum on this charger" if car_max else "the highest a Tesla takes"
        raise IntentError(f"amps must be 1..{ceiling} ({source}), got {amps}")
    return amps


def parse_soc(text: str) -> int:
    return check_soc(_whole_number(text, "soc", "set_soc?80"))


def parse_change(part: str, text: str, car_max: int | None) -> dict[str, Any]:
    """The intent change a command's text asks for, as `set_intent` takes it:
    `control` (1/0), `amps` or `soc`. The HTTP API and MQTT commands both come
    through here, so they accept and refuse the same values."""
    if part == "control":
        return {"charging": parse_switch(text)}
    if part == "amps":
        return {"amps": parse_amps(text, car_max)}
    if part == "soc":
        return {"target_soc": parse_soc(text)}
    raise ValueError(f"no intent part {part!r}")


def check_soc(soc: int) -> int:
    if not 1 <= soc <= 100:
        raise IntentError(
            f"soc must be 1..100 % (1-49 is held by this controller, the car keeps 50), got {soc}"
        )
    return soc


@dataclass(frozen=True, slots=True)
class Intent:
    charging: bool | None = None  # None: never asked; the car is left alone
    amps: int | None = None
    target_soc: int | None = None

    @property
    def guard_soc(self) -> int | None:
        """A target below the car's minimum limit: this controller stops charging there."""
        if self.target_soc is not None and self.target_soc < CAR_MIN_LIMIT:
            return self.target_soc
        return None

    @property
    def car_limit(self) -> int | None:
        """The limit the car itself gets: the target, or 50 as the backup for a lower one."""
        if self.target_soc is None:
            return None
        return max(CAR_MIN_LIMIT, self.target_soc)

    def merged(
        self,
        charging: bool | None = None,
        amps: int | None = None,
        target_soc: int | None = None,
    ) -> "Intent":
        return replace(
            self,
            charging=self.charging if charging is None else charging,
            amps=self.amps if amps is None else amps,
            target_soc=self.target_soc if target_soc is None else target_soc,
        )
