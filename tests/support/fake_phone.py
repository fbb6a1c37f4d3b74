"""A phone running ScanMyTesla in the simulated car: its CAN values as the app uploads them.

`PhoneModel` turns the simulator's car (its public fields: /sim/cars, or a SimCar's
`asdict`) into the ids the app sends (smt_values.py's: SoC 23/24, battery power 43
and current 44, the AC/DC charge totals 9/11, energy to charge 79), only those that
changed since the last upload; the totals rise by the energy the car took, on the
AC or the DC one as it charges. `Phone` polls a simulator process (uncounted) and
uploads through the proxy as the app does (CONNECT teslalogger.de:443, TLS, a
form POST to insert_scanmytesla.php), and can fall silent on demand.
"""

import json
import threading
from datetime import UTC, datetime
from urllib.parse import quote

from support.client import ProxyClient
from support.tesla_sim import http

AWAKE_KW = 0.3  # what the awake car draws from the pack


class PhoneModel:
    def __init__(self, ac_total: float = 1000.0, dc_total: float = 200.0) -> None:
        self.totals = {9: ac_total, 11: dc_total}
        self._energy: float | None = None
        self._sent: dict[int, float] = {}

    def values(self, car: dict) -> dict[int, float]:
        """The ids that changed since the last upload (all of them the first time)."""
        energy = float(car["energy_added"])
        if self._energy is not None and energy > self._energy:
            self.totals[11 if car["fast_charger"] else 9] += energy - self._energy
        self._energy = energy
        power = power_kw(car)
        now = {
            23: round(car["soc"], 3),
            24: round(car["soc"], 3),
            43: round(AWAKE_KW - power, 3),
            44: round((AWAKE_KW - power) * 1000 / 360, 1),
            9: round(self.totals[9], 3),
            11: round(self.totals[11], 3),
            79: round(max(0.0, car["limit"] - car["soc"]) / 100 * car["capacity_kwh"], 2),
        }
        changed = {i: v for i, v in now.items() if self._sent.get(i) != v}
        self._sent.update(changed)
        return changed


def power_kw(car: dict) -> float:
    """What the simulated car takes (SimCar.power_kw, from its public fields)."""
    if not car["charging"] or not car["plugged_in"] or car["no_power"]:
        return 0.0
    if car["state"] != "online":
        return 0.0
    if car["fast_charger"]:
        return float(car["dc_kw"])
    amps = min(car["amps_request"], car["pilot"], car["amps_max"])
    return car["phases"] * car["volts"] * amps / 1000.0


def upload_form(token: str, values: dict[int, float]) -> str:
    moment = datetime.now(UTC).astimezone().isoformat(timespec="microseconds")
    m = json.dumps({"d": moment, "dict": {str(i): v for i, v in values.items()}})
    return f"t={token}&v=1&m={quote(m, safe='')}"


class Phone:
    """Uploads the simulated car every `interval` real seconds while the car is awake."""

    def __init__(self, proxy_port: int, ca_file: str, sim_url: str, token: str,
                 interval: float = 0.2) -> None:  # fmt: skip
        self.client = ProxyClient(proxy_port, ca_file, timeout=10)
        self.sim_url, self.token, self.interval = sim_url, token, interval
        self.model = PhoneModel()
        self.silent = threading.Event()
        self.uploads = 0
        self.answers: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake phone", daemon=True)

    def __enter__(self) -> "Phone":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def upload_now(self) -> None:
        status, cars = http(f"{self.sim_url}/sim/cars")
        assert status == 200, cars
        car = cars[0]
        if car["state"] != "online":
            return  # the CAN bus sleeps, and the app with it
        values = self.model.values(car)
        reply = self.client.post("/insert_scanmytesla.php", upload_form(self.token, values))
        self.answers = [*self.answers[-9:], reply.body]
        if reply.body == b"OK":
            self.uploads += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.silent.is_set():
                continue
            try:
                self.upload_now()
            except Exception:  # the proxy is not up yet, or gone at the end of a test
                self._stop.wait(self.interval)
