"""`make cert`: where the proxy's CA is, and the files an Android phone needs.

- User store (ScanMyTesla 1.x trusts it): `teslahome-ca.cer`, installed from
  Settings > Security > Encryption & credentials > Install a certificate > CA.
- System store (ScanMyTesla 3.x beta trusts only this; needs a rooted phone):
  `<subject_hash_old>.0`, copied to /system/etc/security/cacerts/ (Magisk module
  or remounted system partition).

`make wireguard` prints the WireGuard client configuration for the phone, from
the keys mitmproxy's `--mode wireguard` made (certs/wireguard.py).
"""

import argparse
import hashlib
import shutil
import socket
import sys
import textwrap
from pathlib import Path

from cryptography import x509
from mitmproxy.certs import CertStore

from certs import wireguard

CA_BASENAME = "mitmproxy"
KEY_SIZE = 2048


def subject_hash_old(cert: x509.Certificate) -> str:
    """OpenSSL's pre-1.0 subject hash, which names files in Android's system CA store:
    the first four bytes of the MD5 of the DER-encoded subject, little-endian."""
    digest = hashlib.md5(cert.subject.public_bytes(), usedforsecurity=False).digest()
    return f"{int.from_bytes(digest[:4], 'little'):08x}"


def ensure_ca(confdir: Path) -> Path:
    """The CA certificate, generated the way mitmproxy generates it if it is missing."""
    CertStore.from_store(confdir, CA_BASENAME, KEY_SIZE)
    return confdir / f"{CA_BASENAME}-ca-cert.pem"


def export(confdir: Path, out: Path) -> dict[str, Path]:
    cert_pem = ensure_ca(confdir)
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    out.mkdir(parents=True, exist_ok=True)
    user = out / "teslahome-ca.cer"
    shutil.copyfile(confdir / f"{CA_BASENAME}-ca-cert.cer", user)
    system = out / f"{subject_hash_old(cert)}.0"
    system.write_bytes(cert_pem.read_bytes())
    return {
        "pem": cert_pem,
        "user": user,
        "system": system,
        "p12": confdir / "mitmproxy-ca-cert.p12",
    }


def wireguard_client_conf(
    confdir: Path, endpoint: str, allowed_ips: str = wireguard.FULL_TUNNEL
) -> str:
    """Raises WireGuardError with what to do when it cannot be right."""
    endpoint = wireguard.check_endpoint(endpoint)
    return wireguard.client_conf(wireguard.read_keys(confdir), endpoint, allowed_ips)


def teslalogger_addresses() -> list[str]:
    """teslalogger.de's IPv4 and IPv6 addresses, as this host resolves them."""
    infos = socket.getaddrinfo("teslalogger.de", 443, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m certs.export", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--confdir", type=Path, default=Path("certs"))
    parser.add_argument(
        "--out", type=Path, help="where to write the phone files (default: <confdir>/export)"
    )
    parser.add_argument(
        "--wireguard", metavar="HOST:PORT", help="print a WireGuard client config for this endpoint"
    )
    parser.add_argument(
        "--allowed-ips",
        default="",
        help=f"what the phone routes through the tunnel (default {wireguard.FULL_TUNNEL})",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="route only teslalogger.de (IPv4 and IPv6) and the tunnel's DNS through it",
    )
    args = parser.parse_args(argv)

    if args.wireguard is not None:
        try:
            allowed = args.allowed_ips or wireguard.FULL_TUNNEL
            if args.split:
                allowed = wireguard.split_tunnel(teslalogger_addresses())
            conf = wireguard_client_conf(args.confdir, args.wireguard, allowed)
        except (wireguard.WireGuardError, OSError) as e:
            print(f"make wireguard: {e}", file=sys.stderr)
            return 2
        print(conf, end="")
        key_file = (args.confdir / "wireguard.conf").resolve()
        print(f"(keys from {key_file}: the proxy must use them)", file=sys.stderr)
        return 0

    files = export(args.confdir, args.out or args.confdir / "export")
    print(
        textwrap.dedent(
            f"""\
            CA certificate (PEM):          {files["pem"]}
            CA for other clients (PKCS12): {files["p12"]}
            Android user store:            {files["user"]}
              copy it to the phone, then Settings > Security > Encryption & credentials >
              Install a certificate > CA certificate (ScanMyTesla 1.x trusts this store)
            Android system store:          {files["system"]}
              rooted phones only (ScanMyTesla 3.x trusts only this store):
              adb push {files["system"].name} /sdcard/ ; then as root copy it to
              /system/etc/security/cacerts/ with mode 644 (or use a Magisk module), reboot
            Keep {files["pem"].parent / "mitmproxy-ca.pem"} secret: it holds the CA's key."""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
