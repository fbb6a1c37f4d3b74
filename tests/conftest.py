import os
import ssl
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import settings
from mitmproxy.certs import CertStore

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.client import ProxyClient
from support.mitm import Mitmdump
from support.upstream import FakeUpstream

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Property tests search at random on a developer's machine, where a rare find is
# welcome; under CI=true they replay a fixed search, so a run cannot fail by luck.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The proxy's CA, made once per test run (as mitmproxy makes it at first start)."""
    path = tmp_path_factory.mktemp("certs")
    CertStore.from_store(path, "mitmproxy", 2048)
    return path


class TestCA:
    """A CA standing in for the public ones, to give fake servers real-looking certificates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = CertStore.from_store(path, "upstream-ca", 2048)
        self.ca_file = str(path / "upstream-ca-ca-cert.pem")

    def server_context(self, hostname: str) -> ssl.SSLContext:
        entry = self.store.get_cert(hostname, [x509.DNSName(hostname)])
        cert, key = self.path / f"{hostname}.crt", self.path / f"{hostname}.key"
        cert.write_bytes(entry.cert.to_pem())
        key.write_bytes(
            entry.privatekey.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("upstream-ca"))


@pytest.fixture
async def db(tmp_path: Path):
    """An open, migrated database of its own, closed afterwards."""
    from storage.database import Database

    database = Database(tmp_path / "t.sqlite3")
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def upstream():
    server = FakeUpstream()
    yield server
    server.close()


@pytest.fixture
def proxy(tmp_path: Path, confdir: Path, upstream: FakeUpstream):
    """mitmdump with every addon, forwarding teslalogger.de to the fake upstream."""
    with Mitmdump(tmp_path, confdir, {"smt_upstream_url": upstream.url}) as running:
        yield running


@pytest.fixture
def client(proxy: Mitmdump) -> ProxyClient:
    return ProxyClient(proxy.port, proxy.ca_file)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a service test (real PostgreSQL, Mosquitto or Home Assistant) or a
    network namespace test may not skip: a skip there would hide that it was never tested."""
    report = yield
    kinds = ("service", "netns", "homeassistant")
    needs = [m for m in kinds if item.get_closest_marker(m) is not None]
    if IN_CI and report.skipped and needs:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"{needs[0]} test skipped under CI=true: {reason}"
    return report


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """A test must not leave a non-daemon thread running (an unclosed aiosqlite
    connection, say): at the end of the run it would keep the process from exiting."""
    import threading
    import time

    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        leaked = [
            t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


@pytest.fixture
def broker(tmp_path: Path):
    """Mosquitto: the machine's on 127.0.0.1:1883, or one started for this test."""
    from support.broker import Broker

    running = Broker.for_tests(tmp_path)
    yield running
    if running.own:
        running.stop()


@pytest.fixture
def teslamate_db():
    """A throwaway PostgreSQL database on 127.0.0.1:5432, for TeslaMate's tokens table."""
    from support.teslamate_db import TeslaMateDatabase

    database = TeslaMateDatabase()
    yield database
    database.drop()
