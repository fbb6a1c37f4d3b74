"""The wallbox API: a wallbox-style HTTP API for a Tesla, the charge controller
behind it, the vehicle back-ends it drives, and a car simulator for tests and demos.

Nothing here imports mitmproxy: `addons/wallbox_api.py` starts it inside the
proxy's event loop, and `python -m wallbox.vehicle.simulator` runs the simulator alone.
"""
