import shutil
import subprocess

import mitmproxy_rs
import pytest
from cryptography import x509

from certs.export import export, main, subject_hash_old, wireguard_client_conf


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


def test_wireguard_conf_uses_mitmproxys_key_file(tmp_path):
    conf = wireguard_client_conf(tmp_path, "home.example.org:51820", "0.0.0.0/0")
    keys = (tmp_path / "wireguard.conf").read_text()
    assert "Endpoint = home.example.org:51820" in conf
    assert "DNS = 10.0.0.53" in conf
    import json

    server_key = json.loads(keys)["server_key"]
    assert f"PublicKey = {mitmproxy_rs.wireguard.pubkey(server_key)}" in conf
    assert wireguard_client_conf(tmp_path, "x:1", "0.0.0.0/0").split("\n")[1] == conf.split("\n")[1]
