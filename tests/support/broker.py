"""Mosquitto for tests: the machine's own on 127.0.0.1:1883, or one started for the test.

Tests use unique topics (a uuid in the topic or TeslaMate namespace) and clear
the retained values they publish, so they can share the machine's broker with
other test runs.
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import paho.mqtt.publish as paho_publish
import pytest

from support.ports import free_port, wait_for_port
from wallbox.mqtt.link import BrokerUrl

MACHINE_BROKER = ("127.0.0.1", 1883)


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Broker:
    def __init__(self, host: str, port: int, workdir: Path | None = None,
                 tls: tuple[Path, Path] | None = None) -> None:  # fmt: skip
        self.url = BrokerUrl(host, port, tls=tls is not None)
        self.workdir = workdir
        self.tls = tls  # (certificate, key) for a TLS listener
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def for_tests(cls, workdir: Path) -> "Broker":
        """The machine's broker if it runs, else one of our own, else skip (with a reason)."""
        if _listening(*MACHINE_BROKER):
            return cls(*MACHINE_BROKER)
        if mosquitto_binary() is None:
            pytest.skip("no Mosquitto on 127.0.0.1:1883 and no mosquitto binary to start one")
        return cls.start_own(workdir)

    @classmethod
    def start_own(cls, workdir: Path, tls: tuple[Path, Path] | None = None) -> "Broker":
        broker = cls("localhost" if tls else "127.0.0.1", free_port(), workdir, tls)
        broker.start_again()
        return broker

    @property
    def own(self) -> bool:
        return self.workdir is not None

    def start_again(self) -> None:
        assert self.workdir is not None, "only a broker of our own can be started"
        config = self.workdir / f"mosquitto-{self.url.port}.conf"
        lines = [f"listener {self.url.port} 127.0.0.1", "allow_anonymous true", "persistence false"]
        if self.tls is not None:
            lines += [f"certfile {self.tls[0]}", f"keyfile {self.tls[1]}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            lines.append("user root")  # else it drops to a user that cannot read our tmp files
        config.write_text("\n".join(lines) + "\n")
        log = (self.workdir / f"mosquitto-{self.url.port}.log").open("ab")
        binary = mosquitto_binary()
        assert binary is not None
        self.proc = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
        log.close()
        wait_for_port(self.url.port, timeout=10, host="127.0.0.1")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
        deadline = time.monotonic() + 5
        while _listening(self.url.host, self.url.port) and time.monotonic() < deadline:
            time.sleep(0.05)


def publish(broker: Broker, topic: str, payload: str, *, retain: bool = False) -> None:
    """One message, QoS 1, as TeslaMate sends them; returns once the broker has it."""
    paho_publish.single(
        topic, payload, qos=1, retain=retain, hostname=broker.url.host, port=broker.url.port
    )
