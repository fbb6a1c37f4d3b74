"""A fake Tesla vehicle API: cars that sleep, wake, charge and refuse, on loopback.

Tests and `make demo` use it instead of Tesla; the benchmark counts its calls.

    python -m wallbox.vehicle.simulator --port 5010 [--shape owner|fleet|ble|relay]
        [--cars 2] [--time-factor 60] [--asleep]

One account (fleet.py: cars, time, the API's semantics, faults, the call
counter) played in the shape of one vehicle API (one module each):
- `owner` (owner_api.py): the Owner API, cars by id or VIN, the car list; with
  `--closed`, 403 "forbidden, see developer.tesla.com" to everything, as since
  June 2026.
- `fleet` (fleet_api.py): the Fleet API, VINs only, its region at `/eu` found
  through `/api/1/users/region` (421 anywhere else), commands refused unless
  signed; `--signing-proxy-port` adds tesla-http-proxy, which signs them.
- `ble` (ble_api.py): TeslaBleHttpProxy, no list, answers one level deeper, 503
  "vehicle is sleeping" for data while asleep, `body_controller_state`, wake_up
  and commands over "Bluetooth".
- `relay` (fleet_api.py): Teslemetry, MyTeslaMate, Tessie: the Fleet paths at its
  root, commands signed by it, one static token (`--token`).

What every shape shares:
- Sleep: data and commands answer 408 while a car sleeps; `wake_up` wakes it
  after `wake_delay` seconds. A car can fall asleep after `sleep_after` idle
  seconds (off by default: tests put it to sleep on purpose).
- Charging physics: the SoC rises with phases x volts x amps over (scaled) time
  and stops at the limit (charging_state Complete).
- Refusals as the real API words them: complete, is_charging, not_charging,
  disconnected, already_set; amps under 5 A take effect only when sent twice
  while charging (PROTOCOL.md 5).
- Faults on demand: answer N requests with 429 + Retry-After, 401, 503.
- Tokens (signin.py): `/oauth2/v3/token` answers sign-ins and refreshes, for one
  `--client-id` if set, refresh tokens rotating (`--refresh-token` seeds one);
  with `--token` only those bearer tokens (and the ones it issued) are accepted,
  others get 401. `--tls-cert`/`--tls-key` serve HTTPS, the only way a real
  client sends a token.
- A call counter per endpoint, at `GET /sim/calls` (control.py), with who took
  each call (`via`), what Tesla would bill (`billed`: answers under 500 by
  kind) and the bearer tokens the calls carried (`bearer`), so tests and
  benchmarks count what a real account would be billed for.

Control endpoints for tests (JSON): `GET /sim/cars`, `POST /sim/cars/{vin}`
(plug in/out, move, sleep, set SoC ...), `GET /sim/cars/{vin}/data` (the car's
data, uncounted, for a fake TeslaMate), `POST /sim/faults`, `DELETE /sim/faults`,
`POST /sim/calls/reset`, `POST /sim/tokens`.
"""
