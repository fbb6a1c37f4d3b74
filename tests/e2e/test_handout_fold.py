"""TeslaLogger across the autumn fold, through a real mitmdump: its `can` key is
its local wall-clock second, and 02:30 summer time and 02:30 winter time an
hour later are one key. None of the hand-outs may fail its insert."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from support.client import ProxyClient
from support.mitm import Mitmdump
from support.teslalogger import TeslaLogger

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = "f01dcafe"


def test_teslalogger_stores_every_handout_when_the_clocks_go_back(
    tmp_path, confdir, upstream, monkeypatch
):
    monkeypatch.setenv("TZ", "Europe/Berlin")  # the proxy's host, and TeslaLogger's
    teslalogger = TeslaLogger(BERLIN)
    # The phone uploads, TeslaLogger polls every 5 s: 02:28-02:32 summer time (CEST),
    # then the same wall-clock minutes an hour later in winter time (CET).
    summer = datetime(2025, 10, 26, 0, 28, 0, 300_000, tzinfo=UTC)
    moments = [base + timedelta(seconds=s) for base in (summer, summer + timedelta(hours=1))
               for s in range(0, 240, 5)]  # fmt: skip
    with Mitmdump(tmp_path, confdir, {"smt_upstream_url": upstream.url}) as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        for n, moment in enumerate(moments):
            d = moment.astimezone(BERLIN).isoformat()  # the phone's local time, with offset
            m = json.dumps({"d": d, "dict": {"43": float(n)}})
            upload = client.post("/insert_scanmytesla.php", {"t": TOKEN, "v": "1", "m": m})
            assert (upload.status, upload.body) == (200, b"OK")
            poll = client.post("/get_scanmytesla.php", {"t": TOKEN}, tls=False)
            assert teslalogger.take(poll.body) == 1, poll.body  # raises on a Duplicate entry
    assert sorted(teslalogger.values(43)) == [float(n) for n in range(len(moments))]
    assert len(set(teslalogger.datums)) == len(moments)
