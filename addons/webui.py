"""What mitmweb shows around the flows: the comment column, and the right port.

- The flow list gets mitmweb's `comment` column, where every teslalogger.de
  flow says what teslahome did with it ("stored sample 12: 7 values"), unless
  the user chose `web_columns` themselves.
- mitmweb's footer shows `listen_host:listen_port`, 8080 when unset, while
  `make run` names its port in the mode (`--mode regular@8090`). When every
  listener names its own port, `listen_port` moves no listener, so it is set to
  the regular proxy's port and the footer tells the truth. A mode without a
  port (`--mode wireguard` in ARGS) would take `listen_port` as its own: then
  it is left alone.

mitmdump has no `web_columns` option; there this addon does nothing.
"""

from mitmproxy import ctx
from mitmproxy.proxy import mode_specs

COMMENT = "comment"


def with_comment(columns: list[str]) -> list[str]:
    """The columns with `comment` after `path` (or last), once."""
    if COMMENT in columns:
        return columns
    at = columns.index("path") + 1 if "path" in columns else len(columns)
    return [*columns[:at], COMMENT, *columns[at:]]


def footer_port(modes: list[str]) -> int | None:
    """The port to show, or None when setting listen_port would move a listener."""
    shown = None
    for spec in modes:
        try:
            mode = mode_specs.ProxyMode.parse(spec)
        except ValueError:
            return None
        if mode.custom_listen_port is None and mode.default_port is not None:
            return None  # this mode would listen on listen_port instead of its own default
        if shown is None and isinstance(mode, mode_specs.RegularMode):
            shown = mode.custom_listen_port
    return shown


class WebUi:
    def configure(self, updated: set[str]) -> None:
        o = ctx.options
        if "web_columns" not in o:
            return  # mitmdump
        if "web_columns" in updated and o.web_columns == o.default("web_columns"):
            o.update(web_columns=with_comment(list(o.web_columns)))
        if ("mode" in updated or "listen_port" in updated) and o.listen_port is None:
            port = footer_port(list(o.mode))
            if port is not None:
                o.update(listen_port=port)
