"""The requests captured in the seed (tests/data/seed_capture.txt), as raw HTTP/1.1 bytes."""

from dataclasses import dataclass
from pathlib import Path

CAPTURE = Path(__file__).resolve().parent.parent / "data" / "seed_capture.txt"


@dataclass(frozen=True)
class CapturedRequest:
    method: str
    path: str
    headers: list[tuple[str, str]]  # in captured order
    body: bytes

    def raw(self, *, token: str | None = None) -> bytes:
        """The request as the phone sent it. Content-Length is set to the body's
        real length: the capture's logger re-encoded the bodies (the insert's says
        211 bytes for a 305-byte body) and redacted the token, so its lengths do
        not match the bodies it shows."""
        body = self.body
        if token is not None:
            body = body.replace(b"t=" + self.form_token().encode(), b"t=" + token.encode(), 1)
        lines = [f"{self.method} {self.path} HTTP/1.1"]
        for name, value in self.headers:
            if name.lower() == "content-length":
                value = str(len(body))
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def form_token(self) -> str:
        return self.body.split(b"&")[0].removeprefix(b"t=").decode()


def captured_requests() -> dict[str, CapturedRequest]:
    """By path: /check_token.php and /insert_scanmytesla.php."""
    blocks = CAPTURE.read_text().split("-" * 30)
    found = {}
    for block in blocks:
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines[:4])
        headers_at = lines.index("Headers:")
        body_at = lines.index("Body:")
        headers = [tuple(line.split(": ", 1)) for line in lines[headers_at + 1 : body_at]]
        body = "\n".join(lines[body_at + 1 :]).encode()
        request = CapturedRequest(fields["Method"], fields["URL"], headers, body)  # type: ignore[arg-type]
        found[request.path] = request
    return found
