import json
import shutil
import subprocess

import mitmproxy_rs
import pytest
from cryptography import x509

from certs.export import export, main, subject_hash_old, wireguard_client_conf
from certs.wireguard import WireGuardError


def test_export_writes_the_user_and_system_store_files(tmp_path, capsys):
    assert main(["--confdir", str(tmp_path)]) == 0
    files = export(tmp_path, tmp_path / "export")
    pem = files["pem"].read_bytes()
    assert files["system"].read_bytes() == pem
    assert files["user"].read_bytes() == (tmp_path / "mitmproxy-ca-cert.cer").read_bytes()
    assert str(files["system"]) in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_subject_hash_old_matches_openssl(confdir):
    pem = confdir / "mitmproxy-ca-cert.pem"
    expected = subprocess.run(
        ["openssl", "x509", "-subject_hash_old", "-noout", "-in", str(pem)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert subject_hash_old(x509.load_pem_x509_certificate(pem.read_bytes())) == expected


@pytest.fixture(autouse=True)
def no_running_proxies(monkeypatch):
    """The proxies other tests run on this machine are not the user's."""
    monkeypatch.setattr("certs.wireguard.running_proxies", lambda proc=None: [])


def make_keys(confdir):
    keys = {
        "server_key": mitmproxy_rs.wireguard.genkey(),
        "client_key": mitmproxy_rs.wireguard.genkey(),
    }
    (confdir / "wireguard.conf").write_text(json.dumps(keys))
    return keys


def test_wireguard_conf_uses_the_keys_mitmproxy_made(tmp_path):
    keys = make_keys(tmp_path)
    conf = wireguard_client_conf(tmp_path, "home.example.org:51820")
    assert f"PrivateKey = {keys['client_key']}" in conf
    assert f"PublicKey = {mitmproxy_rs.wireguard.pubkey(keys['server_key'])}" in conf
    assert "Endpoint = home.example.org:51820" in conf
    assert "DNS = 10.0.0.53" in conf
    assert "AllowedIPs = 0.0.0.0/0,::/0" in conf  # IPv6 cannot go around the tunnel


def test_wireguard_makes_no_keys_of_its_own(tmp_path, capsys):
    """Keys made here for a confdir the proxy does not use never connect."""
    with pytest.raises(WireGuardError, match=r"No WireGuard keys in .*--mode wireguard@51820"):
        wireguard_client_conf(tmp_path, "home.example.org:51820")
    assert main(["--confdir", str(tmp_path), "--wireguard", "home.example.org:51820"]) == 2
    assert "No WireGuard keys" in capsys.readouterr().err
    assert not (tmp_path / "wireguard.conf").exists()


@pytest.mark.parametrize(
    "endpoint, ok",
    [
        ("home.example.org:51820", True),
        ("192.168.1.10:51820", True),
        ("[2001:db8::10]:51820", True),
        ("", False),  # WG_ENDPOINT not given: asked for, not guessed
        ("home.example.org", False),
        ("home.example.org:0", False),
        ("home.example.org:70000", False),
        ("2001:db8::10:51820", False),
    ],
)
def test_the_endpoint_is_asked_for(tmp_path, capsys, endpoint, ok):
    make_keys(tmp_path)
    code = main(["--confdir", str(tmp_path), "--wireguard", endpoint])
    out = capsys.readouterr()
    assert code == (0 if ok else 2)
    if not ok:
        assert "WG_ENDPOINT" in out.err and "mobile data" in out.err and not out.out


def test_split_tunnel_routes_teslalogger_de_over_ipv4_and_ipv6(tmp_path, capsys, monkeypatch):
    make_keys(tmp_path)
    monkeypatch.setattr("certs.export.teslalogger_addresses", lambda: ["2a01:4f8::2", "188.40.1.2"])
    assert main(["--confdir", str(tmp_path), "--wireguard", "h.example:51820", "--split"]) == 0
    allowed = "AllowedIPs = 10.0.0.53/32,188.40.1.2/32,2a01:4f8::2/128"
    assert allowed in capsys.readouterr().out
