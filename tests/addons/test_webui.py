import pytest
from mitmproxy.test import taddons

from addons.webui import WebUi, footer_port, with_comment

DEFAULT = ["tls", "icon", "path", "method", "status", "size", "time"]


def test_the_comment_column_follows_the_path_once():
    assert with_comment(DEFAULT) == ["tls", "icon", "path", "comment", "method", "status",
                                     "size", "time"]  # fmt: skip
    assert with_comment(["comment", "path"]) == ["comment", "path"]
    assert with_comment(["icon"]) == ["icon", "comment"]


@pytest.mark.parametrize(
    "modes, port",
    [
        (["regular@8090"], 8090),
        (["regular@8090", "wireguard@51820", "reverse:https://teslalogger.de@443"], 8090),
        (["reverse:https://teslalogger.de@8443"], None),  # nothing regular to show
        (["regular@8090", "wireguard"], None),  # wireguard would move to listen_port
        (["regular"], None),  # 8080 is what the footer shows anyway
        (["regular@8090", "local"], 8090),  # local mode binds no port
        (["nonsense:mode"], None),
    ],
)
def test_the_footer_port_is_set_only_where_it_moves_no_listener(modes, port):
    assert footer_port(modes) == port


def test_nothing_happens_under_mitmdump():
    addon = WebUi()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, mode=["regular@8090"])
        assert tctx.options.listen_port is None
