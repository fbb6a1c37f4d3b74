"""Answers teslalogger.de's ScanMyTesla endpoints from the local store.

- check_token.php: `OK` for an accepted token, else `not found`.
- insert_scanmytesla.php: decodes the upload, stores it durably, and only then
  answers `OK`.
- get_scanmytesla.php: hands TeslaLogger the values that changed since its
  last poll, or exactly `not found`; only what TeslaLogger can store (ids up
  to 8,388,607, a second no earlier hand-out took: storage/handout_rule.py).

`smt_upstream` chooses how the real teslalogger.de takes part:
- off: not at all for these endpoints;
- mirror: each upload is also queued for upstream in the same transaction
  (addons/mirror.py delivers it), and check_token asks upstream first;
- passthrough: nothing is answered here; uploads are only recorded (decoded
  into the history) once upstream has answered them.

A request these endpoints cannot use is answered `ERROR: <reason>` with a 4xx
status (405 wrong method, 403 a token not in smt_tokens, 413 too large, 400
anything else), logged once, and nothing is stored (a body declared far over
the limit is not even read: the connection is closed); a storage failure is a
503 `ERROR: ...`, so the app or TeslaLogger tries again. Every other
teslalogger.de path is left to the Intercept addon, which forwards it.
"""

import logging
import time
from collections.abc import Sequence

from mitmproxy import ctx, exceptions, http

from addons import smt_wire as wire
from addons.intercept import is_teslalogger
from addons.mirror import Mirror
from addons.responses import text_response
from addons.store import Store
from storage.database import StorageError
from storage.handout_rule import MAX_VALUE_ID, teslalogger_can_store
from storage.sample_batch import Forward

logger = logging.getLogger(__name__)

_TOLD_MAX = 10_000  # (token, id) pairs remembered as logged; past that, each is logged again


def endpoint(flow: http.HTTPFlow) -> str | None:
    """The ScanMyTesla endpoint a flow is for, or None."""
    if not is_teslalogger(flow.request):
        return None
    path = flow.request.path.partition("?")[0]
    return path if path in wire.ENDPOINTS else None


# flow.metadata[ACTION]: what teslahome did with a flow, for marks and views:
# "accepted"/"unknown token" (check_token), "stored", "served"/"nothing waiting"
# (get_scanmytesla), "refused" (bad request), "storage failed", and in
# passthrough mode "recorded"/"not recorded".
ACTION = "teslahome.action"


def answer(flow: http.HTTPFlow, status: int, body: bytes, action: str, comment: str) -> None:
    flow.response = text_response(status, body)
    flow.metadata[ACTION] = action
    flow.comment = comment


def refuse(flow: http.HTTPFlow, error: wire.WireError) -> None:
    logger.warning(
        "%s %s from %s refused: %s",
        flow.request.method,
        flow.request.path,
        _peer(flow),
        error.reason,
    )
    answer(flow, error.status, wire.error_body(error.reason), "refused", f"refused: {error.reason}")


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(map(str, ids))


def _peer(flow: http.HTTPFlow) -> str:
    address = flow.client_conn.peername
    return address[0] if address else "?"


MODES = ("off", "mirror", "passthrough")


def request_headers(flow: http.HTTPFlow) -> list[tuple[str, str]]:
    return list(flow.request.headers.items(multi=True))


class ScanMyTesla:
    def __init__(self, store: Store, mirror: Mirror) -> None:
        self.store = store
        self.mirror = mirror
        self.allowed: frozenset[str] = frozenset()
        self._told_over_range: set[tuple[str, int]] = set()
        self.mode = "off"  # smt_upstream, read once per change rather than per flow
        self.polls: dict[str, float] = {}  # token -> TeslaLogger's last poll (the status page)

    def load(self, loader) -> None:
        loader.add_option(
            "smt_tokens",
            Sequence[str],
            [],
            "TeslaLogger tokens accepted from ScanMyTesla and served to TeslaLogger. "
            "Empty: any well-formed token (anyone who can reach the proxy can store data).",
        )
        loader.add_option(
            "smt_upstream",
            str,
            "off",
            "How the real teslalogger.de takes part in the ScanMyTesla endpoints: off (answered "
            "here only), mirror (answered here, uploads also delivered upstream in the "
            "background), passthrough (upstream answers; uploads are only recorded here).",
            choices=MODES,
        )

    def configure(self, updated: set[str]) -> None:
        if "smt_upstream" in updated:
            self.mode = ctx.options.smt_upstream
        if "smt_tokens" in updated:
            bad = [t for t in ctx.options.smt_tokens if not wire.TOKEN_RE.fullmatch(t)]
            if bad:
                raise exceptions.OptionsError(
                    f"smt_tokens: {bad[0]!r} is not a token (1-64 letters, digits, '_', '-', '.')"
                )
            self.allowed = frozenset(ctx.options.smt_tokens)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Refuse oversized bodies. mitmproxy reads a body completely before it
        sends any answer, so one too large to hold (declared over
        wire.MAX_UNREAD_BODY) is cut off unread; a merely large one is read and
        answered 413 `ERROR: ...` in `request`."""
        if endpoint(flow) is None:
            return
        length = flow.request.headers.get("content-length", "")
        if length.isdigit() and int(length) > wire.MAX_UNREAD_BODY:
            logger.warning(
                "%s from %s: closed unread, a body of %s bytes is far over the %d byte limit",
                flow.request.path,
                _peer(flow),
                length,
                wire.MAX_BODY,
            )
            flow.kill()

    async def request(self, flow: http.HTTPFlow) -> None:
        path = endpoint(flow)
        if path is None or flow.response is not None or self.mode == "passthrough":
            return
        if flow.request.method != "POST":
            refuse(flow, wire.WireError(f"{flow.request.method} is not allowed: use POST", 405))
            return
        try:
            body = flow.request.content or b""
        except ValueError:
            refuse(flow, wire.WireError("the body's Content-Encoding cannot be decoded"))
            return
        try:
            if path == wire.CHECK_TOKEN:
                await self._check_token(flow, body)
            elif path == wire.INSERT:
                await self._insert(flow, body)
            else:
                await self._get(flow, body)
        except wire.WireError as e:
            refuse(flow, e)
        except StorageError as e:
            logger.error("%s: storage failed: %s", path, e)
            answer(
                flow,
                503,
                wire.error_body(f"not stored, try again: {e}"),
                "storage failed",
                f"storage failed: {e}",
            )

    async def _check_token(self, flow: http.HTTPFlow, body: bytes) -> None:
        token = wire.parse_token(wire.parse_form(body))
        if self.mirror.active():
            relayed = await self.mirror.ask_check_token(
                request_headers(flow), flow.request.raw_content or b""
            )
            if relayed is not None:
                action = "accepted" if relayed == wire.OK else "unknown token"
                answer(
                    flow, 200, relayed, action, f"token {token}: upstream says {relayed.decode()}"
                )
                return
        if wire.token_accepted(token, self.allowed):
            answer(flow, 200, wire.OK, "accepted", f"token {token} accepted")
        else:
            answer(flow, 200, wire.NOT_FOUND, "unknown token", f"token {token} not in smt_tokens")

    async def _insert(self, flow: http.HTTPFlow, body: bytes) -> None:
        sample = wire.decode_upload(body)
        if not wire.token_accepted(sample.token, self.allowed):
            raise wire.WireError(f"token {sample.token} is not accepted here", 403)
        samples = await self.store.samples()
        mirrored = self.mirror.active()
        forward = None
        if mirrored:
            forward = Forward(wire.INSERT, request_headers(flow), flow.request.raw_content or b"")
        sample_id = await samples.add(sample, forward=forward)
        if mirrored:
            self.mirror.wake()
        note = f"stored sample {sample_id}: {len(sample.values)} values"
        if mirrored:
            note += ", queued for teslalogger.de"
        if sample.skipped:
            note += f", dropped NaN/Infinity of ids {_ids(sample.skipped)}"
        if over := [i for i in sample.values if not teslalogger_can_store(i)]:
            note += f", ids {_ids(over)} kept but never handed to TeslaLogger (over {MAX_VALUE_ID})"
            self._tell_over_range(sample.token, over)
        answer(flow, 200, wire.OK, "stored", note)

    def _tell_over_range(self, token: str, ids: list[int]) -> None:
        """Logged once per token and id: the app sends the same ids again and again."""
        new = [i for i in ids if (token, i) not in self._told_over_range]
        if not new:
            return
        if len(self._told_over_range) < _TOLD_MAX:
            self._told_over_range.update((token, i) for i in new)
        logger.warning(
            "%s: value ids %s are over %d, more than TeslaLogger's can.id column holds: "
            "stored here (history, export, MQTT) but never handed to TeslaLogger",
            token,
            _ids(new),
            MAX_VALUE_ID,
        )

    async def _get(self, flow: http.HTTPFlow, body: bytes) -> None:
        token = wire.parse_token(wire.parse_form(body))
        if wire.token_accepted(token, self.allowed):
            self.polls[token] = time.time()
        samples = await self.store.samples()
        plan = None
        if wire.token_accepted(token, self.allowed) and await samples.has_waiting(token):
            plan = await samples.plan_hand_out(token)
        if plan is None or plan.handout is None:
            note = f"nothing waiting for {token}"
            if plan is not None:
                note += f" that TeslaLogger can store (ids {_ids(plan.left_out)} left out)"
            answer(flow, 200, wire.NOT_FOUND, "nothing waiting", note)
            return
        handout = plan.handout
        note = f"served {len(handout.values)} values up to sample {handout.sample_id}"
        if plan.moved_s:
            note += f", filed {plan.moved_s} s after the phone's time (that second was taken)"
        if plan.left_out:
            note += f", ids {_ids(plan.left_out)} left out (over {MAX_VALUE_ID})"
        answer(flow, 200, wire.encode_handout(handout), "served", note)

    def records_passthrough(self) -> bool:
        """Whether `response` has anything to do (smt_upstream=passthrough)."""
        return self.mode == "passthrough"

    async def response(self, flow: http.HTTPFlow) -> None:
        """Passthrough mode: record what the phone uploaded, once upstream answered."""
        if not self.records_passthrough() or endpoint(flow) != wire.INSERT:
            return
        if flow.metadata.get(ACTION) is not None or flow.response is None:
            return
        try:
            sample = wire.decode_upload(flow.request.content or b"")
            samples = await self.store.samples()
            sample_id = await samples.add(sample)
        except (wire.WireError, ValueError) as e:
            reason = e.reason if isinstance(e, wire.WireError) else str(e)
            flow.metadata[ACTION] = "not recorded"
            flow.comment = f"passed through, not recorded: {reason}"
        except StorageError as e:
            logger.error("passthrough: could not record an upload: %s", e)
            flow.metadata[ACTION] = "not recorded"
            flow.comment = f"passed through, not recorded: {e}"
        else:
            flow.metadata[ACTION] = "recorded"
            flow.comment = (
                f"passed through (upstream answered {flow.response.status_code}), "
                f"recorded as sample {sample_id}: {len(sample.values)} values"
            )
