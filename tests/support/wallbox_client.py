"""The wallbox API of a running mitmdump, seen from outside as home automation sees it,
and the options that point it at the car simulator in accelerated time."""

from support.mitm import Mitmdump
from support.tesla_sim import http, until

FACTOR = 20
HOME = "48.1374,11.5755,100"


def wallbox_options(simulator_url: str, **more) -> dict:
    return {
        "tesla_api_url": simulator_url,
        "wallbox_time_factor": FACTOR,
        "wallbox_poll_charging": 30,
        "wallbox_poll_idle": 60,
        "wallbox_poll_asleep": 60,  # asleep and plugged in: asked as often as idle here
        "wallbox_pv_location": HOME,
        **more,
    }


class Wallbox:
    def __init__(self, proxy: Mitmdump, host: str = "127.0.0.1") -> None:
        self.proxy = proxy
        self.base = f"http://{host}:{proxy.wallbox_port}"

    def get(self, path: str, headers=None):
        return http(self.base + path, headers=headers)

    def status(self, car: str = "1") -> dict:
        code, body = self.get(f"/tlwb/{car}/status")
        assert code == 200, body
        return body

    def ready(self) -> "Wallbox":
        until(lambda: self.get("/tlwb")[0] == 200, 30, what="the car list")
        return self

    def first_verdict(self, timeout: float = 20.0) -> tuple[int, dict]:
        """The status once the first attempt to list the cars has ended: the API listens
        (and answers "being loaded") before that attempt is through."""

        def ended():
            code, body = self.get("/tlwb/1/status")
            return "is being loaded" not in str(body.get("error")) and (code, body)

        return until(ended, timeout, what="the end of the first attempt to list the cars")

    def wait_status(self, wanted: int, timeout: float = 30.0) -> dict:
        return until(
            lambda: (s := self.status())["status"] == wanted and s,
            timeout,
            what=f"status {wanted}",
        )

    def wait_source(self, wanted: str, timeout: float = 20.0) -> dict:
        """The status once its telemetry comes from `wanted` (a source's key)."""
        return until(
            lambda: (s := self.status())["telemetry"]["source"] == wanted and s,
            timeout,
            what=f"telemetry from {wanted}",
        )
