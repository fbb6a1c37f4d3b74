"""The vehicle back-end's options (`tesla_*`): declared, checked, and turned into the
back-end the wallbox API drives (wallbox/vehicle/selection.py says which).

Not an addon of its own: the wallbox API (addons/wallbox_api.py) calls `load`,
`configure` and `build` from its own hooks, so its options stay one group.
"""

import asyncio
from pathlib import Path

from mitmproxy import ctx, exceptions

from addons.options import check_file, checked
from wallbox.vehicle.backend import VehicleBackend
from wallbox.vehicle.ble_backend import BleBackend
from wallbox.vehicle.fleet_backend import FleetBackend
from wallbox.vehicle.relay_backend import RelayBackend, token_reader
from wallbox.vehicle.selection import BACKENDS, Choice, Wish, choose
from wallbox.vehicle.teslapy_backend import TeslapyBackend
from wallbox.vehicle.tokens import TokenFile, TokenSource, account_email, login_kind
from wallbox.vehicle.unconfigured import Unconfigured
from wallbox.vehicle.wire import is_loopback, normalize_api_url

TOKEN_FILE = "tesla_token.json"
VIN_PATH = ("auto", "yes", "no")


def _https(url: str) -> str:
    url = normalize_api_url(url)
    if not url.startswith("https://"):
        raise ValueError(f"{url!r}: tesla-http-proxy serves https:// only")
    return url


class VehicleOptions:
    def load(self, loader) -> None:
        loader.add_option(
            "tesla_backend",
            str,
            "auto",
            "The vehicle back-end: ble (TeslaBleHttpProxy), fleet (the Fleet API with your own "
            "developer app), relay (Teslemetry, MyTeslaMate, Tessie), owner (the Owner API); "
            "auto: from what is set up (README: Which back-end?).",
            choices=list(BACKENDS),
        )
        loader.add_option(
            "tesla_api_url",
            str,
            "",
            "The vehicle API's base URL: TeslaBleHttpProxy's (http://<host>:8080), a relay's, "
            "a Fleet API host to ask for the account's region. Empty: the back-end's own.",
        )
        loader.add_option(
            "tesla_command_url",
            str,
            "",
            "Fleet API: Tesla's tesla-http-proxy (https://localhost:4443), which signs the "
            "commands. Empty: commands go to the Fleet API unsigned (most cars refuse them).",
        )
        loader.add_option(
            "tesla_api_token",
            str,
            "",
            "A relay's static token (never logged). Prefer tesla_api_token_file.",
        )
        loader.add_option(
            "tesla_api_token_file",
            str,
            "",
            "A file whose first line is a relay's static token; read again after a 401.",
        )
        loader.add_option(
            "tesla_api_vin_in_path",
            str,
            "auto",
            "owner: name cars by VIN in API paths: auto (yes everywhere but the Owner API), "
            "yes, no.",
            choices=list(VIN_PATH),
        )
        loader.add_option(
            "tesla_api_ca_file",
            str,
            "",
            "CA file to trust for tesla_api_url and tesla_command_url (a local "
            "tesla-http-proxy's own certificate).",
        )
        loader.add_option(
            "tesla_email",
            str,
            "",
            "The Tesla account; may stay empty when the token file holds only one account.",
        )
        loader.add_option(
            "tesla_token_file",
            str,
            "",
            "teslapy's token cache (written by `make login`); empty: data_dir/tesla_token.json.",
        )

    def configure(self, updated: set[str]) -> None:
        o = ctx.options
        for name, allowed in (("tesla_backend", BACKENDS), ("tesla_api_vin_in_path", VIN_PATH)):
            if name in updated and getattr(o, name) not in allowed:  # mitmproxy does not check
                raise exceptions.OptionsError(f"{name} must be one of {', '.join(allowed)}")
        checked(updated, "tesla_api_url", normalize_api_url, unless_empty=True)
        checked(updated, "tesla_command_url", _https, unless_empty=True)
        check_file(updated, "tesla_api_ca_file")
        check_file(updated, "tesla_api_token_file")
        static = o.tesla_api_token or o.tesla_api_token_file
        token_options = {"tesla_api_url", "tesla_api_token", "tesla_api_token_file"}
        url = o.tesla_api_url
        if (
            updated & token_options
            and static
            and url.startswith("http://")
            and not is_loopback(url)
        ):
            raise exceptions.OptionsError(
                f"tesla_api_url {url}: a token is sent only over https:// (or to this host)"
            )

    async def build(
        self, data_dir: Path, teslamate_tokens: TokenSource | None
    ) -> tuple[VehicleBackend, Choice, str]:
        """The back-end the options ask for, the choice, and where its tokens come from."""
        o = ctx.options
        path = Path(o.tesla_token_file) if o.tesla_token_file else data_dir / TOKEN_FILE
        tokens = teslamate_tokens or TokenFile(path)
        login = None
        if teslamate_tokens is None:
            cache = await asyncio.to_thread(TokenFile(path).load)
            login = login_kind(cache, account_email(cache, o.tesla_email))
        url = normalize_api_url(o.tesla_api_url) if o.tesla_api_url else ""
        wish = Wish(
            backend=o.tesla_backend,
            api_url=url,
            static_token=bool(o.tesla_api_token or o.tesla_api_token_file),
            login=login,
            teslamate_tokens=teslamate_tokens is not None,
        )
        choice = choose(wish)
        ca = o.tesla_api_ca_file
        backend: VehicleBackend
        where = tokens.describe()
        if choice.kind == "ble":
            backend, where = BleBackend(choice.api_url), "none needed"
        elif choice.kind == "fleet":
            backend = FleetBackend(
                choice.api_url, tokens, o.tesla_email, command_url=o.tesla_command_url, ca_file=ca
            )
        elif choice.kind == "relay":
            read, where = token_reader(o.tesla_api_token, o.tesla_api_token_file)
            backend = RelayBackend(choice.api_url, read, where, ca_file=ca)
        elif choice.kind == "owner":
            backend = TeslapyBackend(
                choice.api_url, tokens, o.tesla_email, vin_path=o.tesla_api_vin_in_path, ca_file=ca
            )
            if not choice.api_url.startswith("https://"):
                where = "none needed"
        else:
            backend, where = Unconfigured(choice.why), "none"
        return backend, choice, where
