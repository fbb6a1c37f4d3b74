"""Push feeds of the car's state (fleet-telemetry, TeslaBle2Mqtt) beside TeslaMate's."""
