"""MQTT publishing: what it costs an upload, with the broker up, down or stalled.

    .venv/bin/python tests/bench/mqtt.py [--seconds 3] [--rounds 3] [--values 30]

Five proxies side by side, same client, taking turns: MQTT off; on, with the
Mosquitto on 127.0.0.1:1883 (or one started here), gathering changes for 1 s
(the default) and publishing each at once; on, with nothing listening
at the broker's address; on, with a "broker" that accepts the connection,
acknowledges it and then never reads again (a hung broker: TCP buffers fill).
Each upload carries --values values; uploads/s and latency per case, the
median round.
"""

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
# tests/ for `support`, the checkout for the code: tests/wallbox etc. would
# otherwise shadow the packages they mirror.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from mitmproxy.certs import CertStore  # noqa: E402

from support.broker import MACHINE_BROKER, Broker, _listening  # noqa: E402
from support.mitm import Mitmdump  # noqa: E402
from support.mqtt_watch import Watcher  # noqa: E402
from support.ports import free_port  # noqa: E402
from support.uploads import INSERT, post, run_load, upload_body, value_ids  # noqa: E402

CONNACK = bytes([0x20, 0x02, 0x00, 0x00])


class StalledBroker:
    """Accepts MQTT connections, says CONNACK, then reads nothing more."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.clients: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.recv(1024)  # CONNECT
            client.sendall(CONNACK)
            self.clients.append(client)  # and never read again

    def close(self) -> None:
        self.server.close()
        for client in self.clients:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--values", type=int, default=30)
    args = parser.parse_args()
    ids = value_ids(args.values)

    def upload(worker: int, n: int) -> bytes:
        return post(INSERT, upload_body(f"mqtt{worker}", n, ids))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        confdir = work / "certs"
        CertStore.from_store(confdir, "mitmproxy", 2048)
        own = None if _listening(*MACHINE_BROKER) else Broker.start_own(work)
        broker = f"mqtt://127.0.0.1:{own.url.port if own else MACHINE_BROKER[1]}"
        stalled = StalledBroker()
        prefix = f"bench-{uuid.uuid4().hex[:8]}"  # its retained topics are cleared at the end
        broker_url = own.url if own else Broker(*MACHINE_BROKER).url
        watcher = Watcher(broker_url, f"{prefix}-1/#", f"{prefix}-2/#")
        cases = {
            "off": {},
            "on, broker up": {"mqtt_url": broker},
            "on, broker up, mqtt_interval 0": {"mqtt_url": broker, "mqtt_interval": 0},
            "on, broker down": {"mqtt_url": f"mqtt://127.0.0.1:{free_port()}"},
            "on, broker stalled": {"mqtt_url": f"mqtt://127.0.0.1:{stalled.port}"},
        }
        proxies = {}
        results: dict[str, list] = {label: [] for label in cases}
        watcher.__enter__()
        try:
            for n, (label, options) in enumerate(cases.items()):
                (work / f"case{n}").mkdir()
                options = options | {"wallbox_port": 0, "mqtt_prefix": f"{prefix}-{n}"}
                proxies[label] = Mitmdump(work / f"case{n}", confdir, options).start()
            for r in range(args.rounds):
                print(f"  round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
                for label, proxy in proxies.items():
                    load = run_load(
                        proxy.port, proxy.ca_file, upload, concurrency=10, seconds=args.seconds
                    )
                    results[label].append(asyncio.run(load))
            received = {n: sum(t.startswith(f"{prefix}-{n}/") for t, _, _ in watcher.messages)
                        for n in (1, 2)}  # fmt: skip
        finally:
            for proxy in proxies.values():
                proxy.stop()
            watcher.__exit__(None, None, None)
            stalled.close()
            if own is not None:
                own.stop()
    base = sorted(r.rate for r in results["off"])[len(results["off"]) // 2]
    print(
        f"{args.values} values per upload, 10 connections, median of {args.rounds} rounds; "
        f"the broker received {received[1]} messages with mqtt_interval 1 s (the default), "
        f"{received[2]} with 0\n"
    )
    print("| MQTT | uploads/s | vs off | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- |")
    for label, runs in results.items():
        result = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
        print(
            f"| {label} | {result.rate:.0f} | {result.rate / base:.2f} | "
            f"{result.p50:.2f} | {result.percentile(99):.2f} |"
        )


if __name__ == "__main__":
    main()
