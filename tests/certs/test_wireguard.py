import os

import pytest

from certs import wireguard
from certs.wireguard import WireGuardError, read_keys, running_proxies, split_tunnel


def fake_process(proc, pid, argv, cwd):
    entry = proc / str(pid)
    entry.mkdir(parents=True)
    (entry / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    os.symlink(cwd, entry / "cwd")


@pytest.mark.parametrize(
    "argv, key_file",
    [
        (
            ["/v/bin/mitmdump", "--set", "confdir=/c", "--mode", "wireguard@51820"],
            "/c/wireguard.conf",
        ),
        (
            ["/v/bin/mitmweb", "--set=confdir=certs", "--mode", "wireguard"],
            "/home/u/certs/wireguard.conf",
        ),
        (
            ["/usr/bin/python3", "/v/bin/mitmdump", "--mode", "wireguard:wg.json@5"],
            "/home/u/wg.json",
        ),
        (
            ["/v/bin/mitmdump", "--set", "confdir=/c", "--mode", "regular@8080"],
            None,
        ),  # no WireGuard
        (["/usr/bin/vim", "--mode", "wireguard"], None),
    ],
)
def test_running_proxies_and_their_key_files(tmp_path, argv, key_file):
    fake_process(tmp_path / "proc", 42, argv, "/home/u")
    found = running_proxies(tmp_path / "proc")
    assert [str(p.key_file) for p in found] == ([key_file] if key_file else [])


def test_a_proxy_running_with_other_keys_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "wireguard.conf").write_text('{"server_key": "s", "client_key": "c"}')
    proc = tmp_path / "proc"
    fake_process(proc, 7, ["mitmdump", "--set", "confdir=/theirs", "--mode", "wireguard"], "/")
    with pytest.raises(WireGuardError, match=r"pid 7: /theirs/wireguard\.conf"):
        read_keys(tmp_path / "mine", proc)
    # another proxy that does use these keys: fine (two instances side by side)
    fake_process(
        proc, 8, ["mitmdump", "--set", f"confdir={tmp_path}/mine", "--mode", "wireguard"], "/"
    )
    assert read_keys(tmp_path / "mine", proc)["client_key"] == "c"


@pytest.mark.parametrize(
    "addresses, allowed",
    [
        ([], "10.0.0.53/32"),
        (["188.40.1.2"], "10.0.0.53/32,188.40.1.2/32"),
        (["2a01:4f8::2", "188.40.1.2", "188.40.1.2"], "10.0.0.53/32,188.40.1.2/32,2a01:4f8::2/128"),
    ],
)
def test_split_tunnel_carries_ipv6_too(addresses, allowed):
    assert split_tunnel(addresses) == allowed


def test_full_tunnel_carries_ipv6():
    assert "::/0" in wireguard.FULL_TUNNEL.split(",")
