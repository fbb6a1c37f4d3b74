import os
import ssl
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from mitmproxy.certs import CertStore

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.client import ProxyClient
from support.mitm import Mitmdump
from support.upstream import FakeUpstream

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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
