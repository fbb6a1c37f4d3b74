"""Charge control: what callers want (intent), the pure rules that decide what to
send and what the status is, and the controller that makes each car follow.
Imports `wallbox.vehicle` and the telemetry, never the API or MQTT above it."""
