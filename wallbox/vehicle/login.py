"""`make login`: sign in to Tesla and store the tokens for the wallbox API.

    python -m wallbox.vehicle.login --token-file data/tesla_token.json --client-id <app id>
    python -m wallbox.vehicle.login --token-file data/tesla_token.json [--email you@example.org]
    python -m wallbox.vehicle.login --token-file ... --email ... --refresh-token <token>

With `--client-id` (`make login FLEET_CLIENT_ID=...`) it signs in to the Fleet
API with your own developer app (fleet_login.py). Without, it is teslapy's
Owner API sign-in, which Tesla closed to third parties in June 2026; it stays
for the cars and accounts it still serves.

Interactive by default: it prints Tesla's sign-in URL; sign in in a browser, then
paste the URL of the "Page Not Found" page it lands on. With `--refresh-token`
(from an app such as "Auth for Tesla") it needs no browser. The file is
teslapy's cache format, written with mode 0600; the proxy refreshes the tokens
in it by itself from then on.
"""

import argparse
import sys
from pathlib import Path

import teslapy

from wallbox.vehicle import fleet_login
from wallbox.vehicle.fleet_wire import AUTH_HOST, AUTHORIZE_URL, DISCOVERY_URL
from wallbox.vehicle.tokens import TokenFile, account_email


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sign in to Tesla and store the tokens.")
    parser.add_argument("--token-file", required=True, type=Path)
    parser.add_argument("--email", default="", help="the Tesla account's e-mail address")
    parser.add_argument("--refresh-token", default="", help="use this refresh token, no browser")
    parser.add_argument(
        "--sso-url", default="", help="Tesla's sign-in host (https://auth.tesla.cn/ in China)"
    )
    fleet = parser.add_argument_group("the Fleet API with your own developer app")
    fleet.add_argument("--client-id", default="", help="your app's client id: Fleet API login")
    fleet.add_argument(
        "--redirect-uri",
        default=fleet_login.DEFAULT_REDIRECT_URI,
        help="a redirect URI your app lists at developer.tesla.com",
    )
    fleet.add_argument("--authorize-url", default=AUTHORIZE_URL, help=argparse.SUPPRESS)
    fleet.add_argument("--auth-host", default=AUTH_HOST, help="where tokens are minted")
    fleet.add_argument("--api-url", default=DISCOVERY_URL, help="a Fleet API host (region)")
    fleet.add_argument("--ca-file", default="", help=argparse.SUPPRESS)  # tests: the simulator
    args = parser.parse_args(argv)
    if args.client_id:
        return fleet_login.main(args)
    tokens = TokenFile(args.token_file)
    email = account_email(tokens.load(), args.email) or input("Tesla account e-mail: ").strip()
    if not email:
        print("Give the e-mail address: make login TESLA_EMAIL=you@example.org", file=sys.stderr)
        return 2
    tesla = teslapy.Tesla(
        email,
        cache_loader=tokens.load,
        cache_dumper=tokens.save,
        sso_base_url=args.sso_url or None,
    )
    try:
        if args.refresh_token:
            tesla.refresh_token(refresh_token=args.refresh_token)
        else:
            tesla.fetch_token()
    except Exception as e:  # teslapy raises requests' and oauthlib's errors alike
        print(f"Sign-in failed: {e}", file=sys.stderr)
        return 1
    finally:
        tesla.close()
    print(f"Tokens for {email} stored in {tokens.path} (mode 0600).")
    print("Start the proxy (make run); the wallbox API uses them and refreshes them itself.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
