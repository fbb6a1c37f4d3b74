"""A fake Tesla vehicle API: cars that sleep, wake, charge and refuse, on loopback.

Tests and `make demo` use it instead of Tesla; the benchmark counts its calls.

    python -m wallbox.vehicle.simulator --port 5010 [--cars 2] [--time-factor 60] [--asleep]

What it plays:
- Owner-API paths by id and the VIN paths of the Fleet API, tesla-http-proxy
  and TeslaBleHttpProxy: `/api/1/vehicles`, `/api/1/vehicles/{id|vin}`,
  `.../vehicle_data`, `.../wake_up`, `.../command/{name}`; a token endpoint
  `/oauth2/v3/token` for refreshes.
- Sleep: data and commands answer 408 while a car sleeps; `wake_up` wakes it
  after `wake_delay` seconds. A car can fall asleep after `sleep_after` idle
  seconds (off by default: tests put it to sleep on purpose).
- Charging physics: the SoC rises with phases x volts x amps over (scaled) time
  and stops at the limit (charging_state Complete).
- Refusals as the real API words them: complete, is_charging, not_charging,
  disconnected, already_set; amps under 5 A take effect only when sent twice
  while charging (PROTOCOL.md 5).
- Faults on demand: answer N requests with 429 + Retry-After, 401, 503.
- A call counter per endpoint, at `GET /sim/calls`, so tests and benchmarks
  count what a real account would be billed for, with the bearer tokens the
  calls carried (`bearer`); with `--token` (or `POST /sim/tokens`) only those
  tokens are accepted, others get 401. `--tls-cert`/`--tls-key` serve HTTPS,
  the only way a real client sends a token.

Control endpoints for tests (JSON): `GET /sim/cars`, `POST /sim/cars/{vin}`
(plug in/out, move, sleep, set SoC ...), `GET /sim/cars/{vin}/data` (the car's
data, uncounted, for a fake TeslaMate), `POST /sim/faults`, `DELETE /sim/faults`,
`POST /sim/calls/reset`.
"""
