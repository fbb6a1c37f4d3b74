"""Keeps the phone's WireGuard private key out of the log.

mitmproxy's WireGuard mode logs the whole client config at every start,
`PrivateKey = ...` included (mitmproxy/proxy/mode_servers.py). A log is what
people paste into issues and what journald keeps for weeks; whoever holds that
key can join the tunnel as the phone. The line is kept, with the key replaced:
`make wireguard` prints the config with the key on the terminal only.

The filter sits on mitmproxy's own logger, so it runs before any handler (the
terminal, mitmweb's event log, a log file) sees the record.
"""

import logging
import re

MODE_SERVERS_LOGGER = "mitmproxy.proxy.mode_servers"
HIDDEN = "(not logged: `make wireguard WG_ENDPOINT=<host:port>` prints the phone's config)"
_PRIVATE_KEY = re.compile(r"(?im)^(\s*PrivateKey\s*=\s*)\S+")


def hide_private_keys(text: str) -> str:
    return _PRIVATE_KEY.sub(lambda m: m.group(1) + HIDDEN, text)


class HideWireGuardKey(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "PrivateKey" in message:
            record.msg, record.args = hide_private_keys(message), ()
        return True


def install() -> None:
    """Idempotent: a script reload loads this module again, with a new class."""
    target = logging.getLogger(MODE_SERVERS_LOGGER)
    for old in [f for f in target.filters if type(f).__name__ == HideWireGuardKey.__name__]:
        target.removeFilter(old)
    target.addFilter(HideWireGuardKey())
