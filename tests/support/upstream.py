"""A fake teslalogger.de on loopback that records every request byte for byte."""

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RawRequest:
    head: bytes  # request line and headers, up to and including the blank line
    body: bytes

    @property
    def method(self) -> str:
        return self.head.split(b" ", 1)[0].decode()

    @property
    def path(self) -> str:
        return self.head.split(b" ", 2)[1].decode()

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode()
        return None

    @property
    def raw(self) -> bytes:
        return self.head + self.body


def plain_answer(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=UTF-8\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


type Responder = Callable[[RawRequest], bytes]


class FakeUpstream:
    def __init__(
        self,
        responder: Responder | None = None,
        tls: ssl.SSLContext | None = None,
        port: int = 0,
    ):
        """`port`: reuse a port, e.g. to bring a server "back" after an outage."""
        self.responder: Responder = responder or (lambda _: plain_answer(b"OK"))
        self.tls = tls
        self.requests: list[RawRequest] = []
        self.sni: list[str | None] = []
        self._sock = socket.create_server(("127.0.0.1", port))
        self.port = self._sock.getsockname()[1]
        self._lock = threading.Lock()
        self._closed = False
        self._connections: set[socket.socket] = set()
        if tls is not None:
            tls.sni_callback = self._remember_sni
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _remember_sni(self, _sock, name, _ctx) -> None:
        self.sni.append(name)

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                head += b"\r\n\r\n"
                request = RawRequest(head, b"")
                length = int(request.header("content-length") or 0)
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                request = RawRequest(head, buffer[:length])
                buffer = buffer[length:]
                with self._lock:
                    self.requests.append(request)
                conn.sendall(self.responder(request))
        except (OSError, ssl.SSLError):
            return
        finally:
            with self._lock:
                self._connections.discard(conn)
            conn.close()

    def close(self) -> None:
        """Stop like a crashed server: the listener and every open connection go."""
        self._closed = True
        with self._lock:
            connections = [self._sock, *self._connections]
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._sock.close()
        self._thread.join(5)

    def bodies(self, path: str) -> list[bytes]:
        with self._lock:
            return [r.body for r in self.requests if r.path == path]
