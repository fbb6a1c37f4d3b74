"""The script mitmproxy loads: `mitmdump -s addons/entry.py` (see the Makefile).

mitmproxy sees one addon, the hub (addons/hub.py), which hands every hook to
the features that need it. Features answer in list order: the ones that answer
locally come before TeslaloggerIntercept, which forwards whatever is left to
the real teslalogger.de; the inspection features (content view, marks, flow
limit, mitmweb's columns) read what the others decided. The store comes last:
`done` runs in list order, so everything that uses the database has stopped
before it closes.
"""

import sys
from pathlib import Path

# Lets `mitmdump -s addons/entry.py` work from a checkout that was not pip-installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from addons.flowlimit import FlowLimit
from addons.flowmarks import FlowMarks
from addons.host_guard import HostGuard
from addons.hub import Teslahome
from addons.intercept import TeslaloggerIntercept
from addons.mirror import Mirror
from addons.mqtt import Mqtt
from addons.scanmytesla import ScanMyTesla
from addons.smt_view import SmtView
from addons.store import Store
from addons.telemetry import Telemetry
from addons.teslamate import TeslaMate
from addons.wallbox_api import WallboxApi
from addons.webui import WebUi

store = Store()
mirror = Mirror(store)
teslamate = TeslaMate()  # options only: the wallbox API runs its feed and token source
smt = ScanMyTesla(store, mirror)
intercept = TeslaloggerIntercept()
guard = HostGuard(intercept)
telemetry = Telemetry(store)  # options, and the ScanMyTesla capture's uploads
wallbox = WallboxApi(store, teslamate, proxied=guard.opened_by_proxy, telemetry=telemetry)
wallbox.capture.polls = smt.polls  # the status page shows TeslaLogger's last poll
marks = FlowMarks()
limit = FlowLimit()

features = [
    smt,
    mirror,
    wallbox,
    teslamate,  # after the wallbox API: its MQTT link closes once the controller stopped
    telemetry,  # the same for the push feeds' links
    Mqtt(store, wallbox),  # publishes stored samples and the wallbox's status
    intercept,
    guard,
    SmtView(),
    marks,
    limit,
    WebUi(),
    store,
]
addons = [
    Teslahome(
        features,
        smt=smt,
        intercept=intercept,
        marks=marks,
        limit=limit,
        guard=guard,
        freeze_gc=True,
    )
]
