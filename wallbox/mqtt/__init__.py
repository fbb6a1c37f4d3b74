"""MQTT for home automation: the broker link, a publisher that never blocks, the
topics, Home Assistant discovery, and the openWB charge point bridge."""
