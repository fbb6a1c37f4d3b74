"""The car's state pushed by the feeds that watch it (TeslaMate, fleet-telemetry,
TeslaBle2Mqtt, Teslemetry's stream): one module per source, a common model, the
health and silence rules they share, and the composite the controller asks."""
