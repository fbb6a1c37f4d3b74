"""TeslaMate: its MQTT telemetry as a state feed for the controller, the rule that
judges whether it can stand in for Tesla API reads, and its tokens, read-only."""
