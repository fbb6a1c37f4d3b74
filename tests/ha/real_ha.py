"""teslahome's MQTT discovery against a real Home Assistant core (`make ha-check`).

Not a pytest module (pytest collects test_*.py only) and not run by CI: it needs Home
Assistant installed in a venv of its own. It starts Mosquitto (the machine's, or one of its
own), the car simulator, Home Assistant with the MQTT integration and teslahome (mitmdump
with addons/entry.py), then walks the sequences in walk.py through HA's REST API. It exits
non-zero when a step fails or HA's log shows a refused payload (ha_core.REFUSALS).
"""

import argparse
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT / "tests"), str(ROOT)]

from ha_core import HomeAssistant  # noqa: E402
from mitmproxy.certs import CertStore  # noqa: E402
from walk import Rig, log_grep_sees_a_refusal, walk  # noqa: E402

from support.broker import Broker  # noqa: E402
from support.mitm import Mitmdump  # noqa: E402
from support.mqtt_watch import Watcher  # noqa: E402
from support.tesla_sim import Simulator  # noqa: E402
from support.wallbox_client import wallbox_options  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hass", type=Path, default=ROOT / ".venv-ha" / "bin" / "hass")
    parser.add_argument("--workdir", type=Path, help="kept afterwards (default: a new tmp dir)")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    if not args.hass.exists():
        print(f"no Home Assistant at {args.hass}: make ha-check installs one", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="teslahome-ha-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    prefix, ha_prefix = f"th-{tag}", f"ha-{tag}"  # topics of this run only
    confdir = workdir / "certs"
    confdir.mkdir(exist_ok=True)
    CertStore.from_store(confdir, "mitmproxy", 2048)
    broker = Broker.for_tests(workdir)
    print(f"work directory {workdir}; broker {broker.url.host}:{broker.url.port}")
    ha = HomeAssistant(args.hass, workdir, (broker.url.host, broker.url.port), ha_prefix)
    failed, refused = None, []
    started = time.monotonic()
    try:
        with (
            Simulator(workdir, time_factor=20, asleep=True) as sim,
            Watcher(broker.url, f"{prefix}/#", f"{ha_prefix}/#") as mqtt,  # clears them at exit
        ):
            options = wallbox_options(
                sim.url,
                mqtt_url=f"mqtt://{broker.url.host}:{broker.url.port}",
                mqtt_prefix=prefix,
                mqtt_ha_prefix=ha_prefix,
                mqtt_interval=0,
            )
            proxy = Mitmdump(workdir, confdir, options, ready_marker="wallbox API listening at")
            rig = Rig(ha, sim, proxy, mqtt, prefix)
            try:
                failed = walk(rig)
                refused = ha.refusals()
                if not failed:
                    control = log_grep_sees_a_refusal(rig)
                    print(f"ok   negative control: 'unknown' on purpose, {control} refusal lines")
            finally:
                proxy.stop()
                ha.stop()
    except Exception:
        failed = "error: " + traceback.format_exc()
    finally:
        if broker.own:
            broker.stop()
    print(f"--- HA log lines that refuse our payloads ({len(refused)}), {ha.log_path}:")
    for line in refused:
        print("  ", line[:400])
    took = time.monotonic() - started
    if failed:
        print(f"FAILED after {took:.0f} s: {failed}")
    print(f"result: {'FAIL' if failed or refused else 'PASS'} ({took:.0f} s)")
    return 1 if failed or refused else 0


if __name__ == "__main__":
    sys.exit(main())
