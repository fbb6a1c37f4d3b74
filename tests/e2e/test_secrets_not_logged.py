"""No secret reaches the log: a real mitmdump with a WireGuard listener and a
wallbox secret, at debug verbosity, its whole output grepped."""

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.mitm import Mitmdump
from support.ports import free_port

pytestmark = pytest.mark.e2e

WALLBOX_SECRET = "wallbox-secret-3f9a1c77"


def wait_for(proxy: Mitmdump, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in proxy.log:
        assert proxy.proc is not None and proxy.proc.poll() is None, proxy.log
        assert time.monotonic() < deadline, f"{text!r} never logged:\n{proxy.log}"
        time.sleep(0.05)


def test_neither_the_wireguard_key_nor_the_wallbox_secret_is_logged(tmp_path: Path, confdir):
    wg_conf = tmp_path / "wireguard.conf"
    options = {"wallbox_token": WALLBOX_SECRET, "termlog_verbosity": "debug"}
    mode = f"wireguard:{wg_conf}@{free_port()}"
    with Mitmdump(tmp_path, confdir, options, extra_args=["--mode", mode]) as proxy:
        wait_for(proxy, "[Peer]")  # mitmproxy's line with the phone's config
        wait_for(proxy, "wallbox API listening at")  # it may come after the proxy's lines
        request = urllib.request.Request(
            f"http://127.0.0.1:{proxy.wallbox_port}/tlwb/1/status",
            headers={"Authorization": f"Bearer {WALLBOX_SECRET}"},
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError:
            pass  # no vehicle back-end: 503, but the secret went through the check
    client_key = json.loads(wg_conf.read_text())["client_key"]
    # The harness's own "===== start" line shows the command line; the rest is the proxy's.
    log = "\n".join(line for line in proxy.log.splitlines() if not line.startswith("===== "))
    assert "[Interface]" in log and "PrivateKey = (not logged" in log
    assert client_key not in log
    assert WALLBOX_SECRET not in log


def test_the_generated_wallbox_secret_is_not_logged(tmp_path: Path, confdir):
    with Mitmdump(tmp_path, confdir, {"termlog_verbosity": "debug"}) as proxy:
        wait_for(proxy, "wallbox API listening at")
        secret = (proxy.data_dir / "wallbox_token").read_text().strip()
        request = urllib.request.Request(
            f"http://127.0.0.1:{proxy.wallbox_port}/tlwb/1/status",
            headers={"Authorization": f"Bearer {secret}"},
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError:
            pass
    assert len(secret) >= 8 and secret not in proxy.log
