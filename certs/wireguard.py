"""`make wireguard`: the phone's WireGuard config, for the keys the running proxy uses.

What used to trip users, and what this does instead:

- Keys made here for a confdir the proxy does not use never complete a
  handshake. So no keys are made here: mitmproxy makes them at the first start
  with `--mode wireguard`, and a missing key file is an error saying so. When
  a proxy with a WireGuard listener runs on this host with another key file,
  that is an error too, naming the CERTS_DIR to use.
- The endpoint is asked for, not guessed: `hostname -f` is rarely what a phone
  on mobile data can reach.
- IPv6 goes into the tunnel too (`::/0`, or teslalogger.de's IPv6 addresses
  when only it is routed there): the tunnel has no IPv6 address, so a
  dual-stack phone cannot reach teslalogger.de around the tunnel over IPv6
  and falls back to IPv4, through the tunnel.
"""

import json
import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

TUNNEL_DNS = "10.0.0.53"
FULL_TUNNEL = "0.0.0.0/0,::/0"
_ENDPOINT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")
ENDPOINT_HELP = """\
WG_ENDPOINT is missing or not <host>:<port>. It is the address the phone sends its
WireGuard packets to:
  - on mobile data (the usual case: the phone is in the car): your home's public
    address or DynDNS name, with UDP port 51820 forwarded on your router to this host,
    e.g.  make wireguard WG_ENDPOINT=home.example.org:51820
  - on home Wi-Fi only: this host's LAN address, e.g. WG_ENDPOINT=192.168.1.10:51820
  (an IPv6 address goes in brackets: [2001:db8::10]:51820)"""


class WireGuardError(Exception):
    """Something the user has to fix; the message says what."""


def check_endpoint(endpoint: str) -> str:
    match = _ENDPOINT.match(endpoint.strip())
    if not match or not 0 < int(match.group(2)) < 65536:
        raise WireGuardError(ENDPOINT_HELP)
    return endpoint.strip()


@dataclass(frozen=True)
class RunningProxy:
    pid: int
    key_file: Path


def running_proxies(proc: Path = Path("/proc")) -> list[RunningProxy]:
    """mitmdump/mitmweb processes on this host with a WireGuard listener, and the
    key file each uses (Linux: read from /proc; elsewhere none are found)."""
    found = []
    for entry in proc.glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv if a]
        if not any(Path(a).name in ("mitmdump", "mitmweb", "mitmproxy") for a in args[:2]):
            continue
        key_file = _key_file(args, cwd)
        if key_file is not None:
            found.append(RunningProxy(int(entry.name), key_file))
    return found


def _key_file(args: list[str], cwd: Path) -> Path | None:
    confdir, key_file = Path("~/.mitmproxy").expanduser(), None
    for arg, value in zip(args, [*args[1:], ""], strict=True):
        if arg == "--set" and value.startswith("confdir="):
            confdir = cwd / Path(value.removeprefix("confdir=")).expanduser()
        elif arg.startswith("--set=confdir="):
            confdir = cwd / Path(arg.removeprefix("--set=confdir=")).expanduser()
        elif arg in ("--mode", "-m") and value.startswith("wireguard"):
            spec = value.partition("@")[0]
            key_file = Path(spec.partition(":")[2]) if ":" in spec else Path()
    if key_file is None:
        return None
    return (cwd / key_file.expanduser()) if str(key_file) != "." else confdir / "wireguard.conf"


def read_keys(confdir: Path, proc: Path = Path("/proc")) -> dict[str, str]:
    key_file = (confdir / "wireguard.conf").resolve()
    running = running_proxies(proc)
    others = [p for p in running if p.key_file.resolve() != key_file]
    if others and len(others) == len(running):
        names = ", ".join(f"pid {p.pid}: {p.key_file}" for p in others)
        raise WireGuardError(
            f"The running proxy uses other WireGuard keys ({names}), not {key_file}: "
            f"a config from these would never connect. Run make wireguard with the "
            f"proxy's CERTS_DIR (the directory of its wireguard.conf)."
        )
    if not key_file.exists():
        raise WireGuardError(
            f"No WireGuard keys in {key_file}. The proxy makes them when it first starts "
            f'with a WireGuard listener: make run ARGS="--mode wireguard@51820" with the '
            f"same CERTS_DIR, then make wireguard again. (Keys made here would not be the "
            f"proxy's, and the phone would never connect.)"
        )
    return json.loads(key_file.read_text())


def client_conf(keys: dict[str, str], endpoint: str, allowed_ips: str) -> str:
    import mitmproxy_rs

    server_public = mitmproxy_rs.wireguard.pubkey(keys["server_key"])
    return textwrap.dedent(
        f"""\
        [Interface]
        PrivateKey = {keys["client_key"]}
        Address = 10.0.0.1/32
        DNS = {TUNNEL_DNS}

        [Peer]
        PublicKey = {server_public}
        AllowedIPs = {allowed_ips}
        Endpoint = {endpoint}
        """
    )


def split_tunnel(addresses: list[str]) -> str:
    """AllowedIPs for a tunnel that carries only teslalogger.de (and the tunnel's
    DNS): its IPv4 and its IPv6 addresses, so IPv6 cannot go around the tunnel."""
    nets = [f"{TUNNEL_DNS}/32"] + [f"{a}/{128 if ':' in a else 32}" for a in sorted(addresses)]
    return ",".join(dict.fromkeys(nets))
