"""The script mitmproxy loads: `mitmdump -s addons/entry.py` (see the Makefile).

Addons answer in list order: the ones that answer locally come before
TeslaloggerIntercept, which forwards whatever is left to the real teslalogger.de.
The inspection addons (content view, marks, flow limit, mitmweb's columns) follow: they read what
the others decided. The store comes last: mitmproxy calls `done` in list order,
so everything that uses the database has stopped before it closes.
"""

import sys
from pathlib import Path

# Lets `mitmdump -s addons/entry.py` work from a checkout that was not pip-installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from addons.flowlimit import FlowLimit
from addons.flowmarks import FlowMarks
from addons.intercept import TeslaloggerIntercept
from addons.mirror import Mirror
from addons.mqtt import Mqtt
from addons.scanmytesla import ScanMyTesla
from addons.smt_view import SmtView
from addons.store import Store
from addons.teslamate import TeslaMate
from addons.wallbox_api import WallboxApi
from addons.webui import WebUi

store = Store()
mirror = Mirror(store)
teslamate = TeslaMate()  # options only: the wallbox API runs its feed and token source
wallbox = WallboxApi(store, teslamate)

addons = [
    ScanMyTesla(store, mirror),
    mirror,
    wallbox,
    teslamate,  # after the wallbox API: its MQTT link closes once the controller stopped
    Mqtt(store, wallbox),  # publishes stored samples and the wallbox's status
    TeslaloggerIntercept(),
    SmtView(),
    FlowMarks(),
    FlowLimit(),
    WebUi(),
    store,
]
