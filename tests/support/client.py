"""A raw HTTP/1.1 client that goes through the proxy the way a phone does:
CONNECT, TLS against the proxy's CA, then the exact request bytes."""

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlencode

DALVIK = "Dalvik/2.1.0 (Linux; U; Android 7.0; SM-A310F Build/NRD90M)"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode()


class ProxyClient:
    def __init__(self, proxy_port: int, ca_file: str | None = None, timeout: float = 15.0) -> None:
        self.proxy_port = proxy_port
        self.ca_file = ca_file
        self.timeout = timeout

    def connect(
        self,
        host: str = "teslalogger.de",
        port: int = 443,
        tls: bool = True,
        sni: str | None = None,
    ):
        sock = socket.create_connection(("127.0.0.1", self.proxy_port), timeout=self.timeout)
        if not tls:
            return sock
        sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"proxy closed during CONNECT: {head!r}")
            head += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(f"CONNECT refused: {head!r}")
        context = ssl.create_default_context(cafile=self.ca_file)
        context.set_alpn_protocols(["http/1.1"])
        return context.wrap_socket(sock, server_hostname=sni or host)

    def send(
        self,
        raw: bytes,
        *,
        host: str = "teslalogger.de",
        port: int = 443,
        tls: bool = True,
        sni: str | None = None,
    ) -> Reply:
        """Send `raw` (origin-form for TLS; absolute-form is made for plain HTTP)."""
        if not tls:
            method, _, rest = raw.partition(b" ")
            scheme_host = f"http://{host}" + ("" if port == 80 else f":{port}")
            raw = method + b" " + scheme_host.encode() + rest
        with self.connect(host, port, tls, sni) as sock:
            sock.sendall(raw)
            return read_reply(sock)

    def exchange_raw(self, raw: bytes, *, host: str = "teslalogger.de", port: int = 443) -> bytes:
        """Send `raw` over TLS and return the response's raw bytes."""
        with self.connect(host, port, True) as sock:
            sock.sendall(raw)
            return read_raw_reply(sock)

    def post(
        self,
        path: str,
        body: bytes | str | dict,
        *,
        tls: bool = True,
        host: str = "teslalogger.de",
        port: int | None = None,
        method: str = "POST",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """A request shaped like the app's (or TeslaLogger's, with tls=False)."""
        if isinstance(body, dict):
            body = urlencode(body)
        if isinstance(body, str):
            body = body.encode()
        fields = {
            "Connection": "Keep-Alive" if tls else "close",
            "Host": host,
            "User-Agent": DALVIK if tls else "Teslalogger/1.0 (test; 1)",
            "Content-Length": str(len(body)),
            "Accept-Encoding": "identity",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        fields.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        port = port if port is not None else (443 if tls else 80)
        return self.send(head.encode() + b"\r\n" + body, host=host, port=port, tls=tls)


def read_raw_reply(sock: socket.socket) -> bytes:
    """The response exactly as it came off the wire (Content-Length framed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def read_reply(sock: socket.socket) -> Reply:
    response = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
    response.begin()
    body = response.read()
    return Reply(response.status, list(response.getheaders()), body)
