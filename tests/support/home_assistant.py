"""A real Home Assistant core as a subprocess: its config (MQTT on a broker, the REST API),
a user made through onboarding, and the REST calls a check needs (states, services)."""

import datetime
import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from support.ports import free_port
from support.tesla_sim import until

# HA log lines that mean a payload of ours was refused, or a discovery key is on its way out.
REFUSALS = (
    "non-numeric",
    "is not a Number",
    "ValueError",
    "No matching payload",
    "object_id",
    "Invalid value for",  # a number's state outside its min..max
    "Ignoring invalid option",  # an enum sensor's state outside its options
    "Invalid state message",
    "not strictly increasing",  # a total_increasing sensor that fell
    "Template variable",  # a value template reading what the payload lacks
)

CONFIG = """
homeassistant:
  name: teslahome check
  unit_system: metric
  time_zone: UTC
  latitude: 48.1374
  longitude: 11.5755
  elevation: 0
  currency: EUR
  country: DE
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
onboarding:
logger:
  default: warning
  logs:
    homeassistant.components.mqtt: info
"""


class HomeAssistant:
    def __init__(self, hass: Path, workdir: Path, broker: tuple[str, int], prefix: str) -> None:
        self.hass = hass
        self.config = workdir / "ha"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.client_id = self.base + "/"
        self.log_path = self.config / "home-assistant.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.refresh = ""
        self._write_config(*broker, prefix)

    def _write_config(self, host: str, port: int, prefix: str) -> None:
        """configuration.yaml and an MQTT config entry, as the UI would have added it."""
        (self.config / ".storage").mkdir(parents=True, exist_ok=True)
        (self.config / "configuration.yaml").write_text(CONFIG.format(port=self.port))
        now = datetime.datetime.now(datetime.UTC).isoformat()
        entry = {
            "entry_id": uuid.uuid4().hex, "version": 1, "minor_version": 1, "domain": "mqtt",
            "title": host, "source": "user", "unique_id": None, "disabled_by": None,
            "pref_disable_new_entities": False, "pref_disable_polling": False,
            "created_at": now, "modified_at": now, "discovery_keys": {}, "subentries": [],
            "data": {"broker": host, "port": port, "discovery": True, "discovery_prefix": prefix},
            "options": {},
        }  # fmt: skip
        entries = {"version": 1, "minor_version": 5, "key": "core.config_entries",
                   "data": {"entries": [entry]}}  # fmt: skip
        (self.config / ".storage" / "core.config_entries").write_text(json.dumps(entries))

    # --- process ------------------------------------------------------------

    def start(self, timeout: float = 240.0) -> "HomeAssistant":
        """Starts HA and waits until its API answers (the first start may install
        integrations' requirements into its venv, hence the long timeout)."""
        with (self.config / "hass.out").open("ab") as out:
            self.proc = subprocess.Popen(
                [str(self.hass), "-c", str(self.config)], stdout=out, stderr=subprocess.STDOUT
            )

        def up():
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"hass exited with {self.proc.returncode}: see {self.config}")
            return self._request("GET", "/api/onboarding", auth=False)[0] == 200

        until(up, timeout, interval=0.5, what="Home Assistant's API")
        if not self.token:
            self._onboard()
        until(lambda: self.get("/api/config")[0] == 200, 60, what="an authorized /api/config")
        until(self._mqtt_loaded, 60, interval=0.5, what="HA's MQTT integration loaded")
        return self

    def _mqtt_loaded(self) -> bool:
        code, config = self.get("/api/config")
        return code == 200 and "mqtt" in config.get("components", [])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    # --- auth ---------------------------------------------------------------

    def _onboard(self) -> None:
        """The first user, as the onboarding page makes it; its code buys the tokens."""
        user = {"client_id": self.client_id, "name": "check", "username": "check",
                "password": uuid.uuid4().hex, "language": "en"}  # fmt: skip
        code, body = self._request("POST", "/api/onboarding/users", user, auth=False)
        assert code == 200, (code, body)
        self._tokens({"grant_type": "authorization_code", "code": body["auth_code"]})

    def _tokens(self, form: dict[str, str]) -> None:
        form = {**form, "client_id": self.client_id}
        code, body = self._request("POST", "/auth/token", form=form)
        assert code == 200, (code, body)
        self.token = body["access_token"]
        self.refresh = body.get("refresh_token", self.refresh)

    # --- REST ---------------------------------------------------------------

    def _request(self, method, path, body=None, *, form=None, auth=True):
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                code, raw = reply.status, reply.read()
        except urllib.error.HTTPError as e:
            code, raw = e.code, e.read()
        except OSError:
            return 0, None
        try:
            return code, json.loads(raw)
        except ValueError:
            return code, raw.decode(errors="replace")

    def get(self, path: str):
        code, body = self._request("GET", path)
        if code == 401 and self.refresh:  # access tokens last 30 minutes
            self._tokens({"grant_type": "refresh_token", "refresh_token": self.refresh})
            code, body = self._request("GET", path)
        return code, body

    def states(self) -> dict[str, str]:
        """entity_id -> state of every entity, {} while HA does not answer."""
        code, body = self.get("/api/states")
        return {s["entity_id"]: s["state"] for s in body} if code == 200 else {}

    def entity(self, domain: str, suffix: str) -> str | None:
        """HA 2025.4 names entities after device and entity name (default_entity_id
        counts from 2025.10), so look them up by the end of the id."""
        found = sorted(
            e for e in self.states() if e.startswith(f"{domain}.") and e.endswith(suffix)
        )
        return found[0] if found else None

    def wait_state(self, entity_id: str, check, timeout: float = 60.0, what: str = "") -> str:
        def met():
            state = self.states().get(entity_id)
            return state is not None and check(state) and state

        return until(met, timeout, interval=0.2, what=what or f"{entity_id} as wanted")

    def call(self, domain: str, service: str, entity_id: str, **data) -> None:
        body = {"entity_id": entity_id, **data}
        code, answer = self._request("POST", f"/api/services/{domain}/{service}", body)
        assert code == 200, (domain, service, code, answer)

    # --- log ----------------------------------------------------------------

    def log_text(self) -> str:
        logs = sorted(self.config.glob("home-assistant.log*"), reverse=True)  # .1 before now
        return "\n".join(p.read_text(errors="replace") for p in logs)

    def refusals(self) -> list[str]:
        return [line for line in self.log_text().splitlines() if any(w in line for w in REFUSALS)]
