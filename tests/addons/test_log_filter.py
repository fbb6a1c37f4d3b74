import logging

import pytest

from addons import log_filter

CONF = """------------------------------------------------------------
[Interface]
PrivateKey = cPAUKy4O0wC3n6pHqyHQnWzQH8yRwtnkDL5FVWzRbEk=
Address = 10.0.0.1/32

[Peer]
PublicKey = qk3p0bG1cBHb3JNTqQ7eK2c7wmSpE3xzh8h0VxvkH2c=
------------------------------------------------------------"""


@pytest.mark.parametrize(
    "line, kept",
    [
        ("PrivateKey = abc+/=", "PrivateKey = " + log_filter.HIDDEN),
        ("  privatekey=abc", "  privatekey=" + log_filter.HIDDEN),
        ("PublicKey = abc", "PublicKey = abc"),  # the server's public key is no secret
        ("no key here", "no key here"),
    ],
)
def test_hide_private_keys(line, kept):
    assert log_filter.hide_private_keys(line) == kept


def test_mitmproxys_wireguard_line_keeps_everything_but_the_key(caplog):
    log_filter.install()
    log_filter.install()  # a script reload: still one filter
    logger = logging.getLogger(log_filter.MODE_SERVERS_LOGGER)
    assert sum(type(f).__name__ == "HideWireGuardKey" for f in logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=log_filter.MODE_SERVERS_LOGGER):
        logger.info("-" * 3 + "\n%s", CONF)
    text = caplog.text
    assert "cPAUKy4O0wC3n6pHqyHQnWzQH8yRwtnkDL5FVWzRbEk=" not in text
    assert "PublicKey = qk3p0bG1cBHb3JNTqQ7eK2c7wmSpE3xzh8h0VxvkH2c=" in text
    assert log_filter.HIDDEN in text
