"""TeslaMate's tokens: Cloak decryption (pure), reading the newest row from a real
PostgreSQL, and the teslapy back-end using them read-only against the simulator over HTTPS."""

import asyncio
import logging

import pytest

from support.ports import free_port
from support.teslamate_db import access_token, cloak_encrypt, jwt
from wallbox.vehicle.backend import NotConfigured, Unauthorized
from wallbox.vehicle.simulator.fleet import Fleet
from wallbox.vehicle.simulator.server import serve
from wallbox.vehicle.teslamate_tokens import (
    NotCloak,
    TeslaMateTokens,
    WrongKey,
    cloak_key,
    decrypt,
    describe_dsn,
    token_expiry,
)
from wallbox.vehicle.teslapy_backend import TeslapyBackend

KEY = "secret-encryption-key-from-docker-compose"
# Cloak AES-GCM as TeslaMate writes it: 0x01, 10, "AES.GCM.V1", IV 00..0b, GCM tag, ciphertext
VECTOR = bytes.fromhex(
    "010a4145532e47434d2e5631000102030405060708090a0b15032b23c318f89865239b0c4a082b7b7867"
    "5990e53a4c8758b046e1e7b2f5b3efe2f0d0"
)


def test_the_test_vector_decrypts():
    assert decrypt(VECTOR, cloak_key(KEY)) == "qts-0123456789abcdef"


def test_a_fresh_encryption_with_a_random_iv_decrypts():
    assert decrypt(cloak_encrypt("ü-token", KEY), cloak_key(KEY)) == "ü-token"


def test_a_wrong_key_is_told_apart_from_a_wrong_format():
    with pytest.raises(WrongKey):
        decrypt(VECTOR, cloak_key("another key"))
    tampered = VECTOR[:-1] + bytes([VECTOR[-1] ^ 1])
    with pytest.raises(WrongKey):  # GCM cannot tell a wrong key from a changed value
        decrypt(tampered, cloak_key(KEY))


@pytest.mark.parametrize(
    "value, words",
    [
        (b"", "does not start with Cloak's key tag"),
        (b"plain-token", "does not start"),
        (bytes([1, 10]) + b"AES.CTR.V1" + bytes(40), "key tag is b'AES.CTR.V1'"),
        (bytes([1, 10]) + b"AES.GCM.V1" + bytes(20), "too short"),
    ],
)
def test_not_cloak(value, words):
    with pytest.raises(NotCloak, match=words):
        decrypt(value, cloak_key(KEY))


@pytest.mark.parametrize(
    "token, expiry",
    [
        (jwt({"exp": 1_900_000_000}), 1_900_000_000.0),
        (jwt({"sub": "x"}), None),
        (jwt({"exp": "soon"}), None),
        ("opaque-token", None),
        ("a.!!!.c", None),
    ],
)
def test_token_expiry(token, expiry):
    assert token_expiry(token) == expiry


def test_describe_dsn_never_shows_the_password():
    dsn = "postgresql://teslamate:pw123@192.168.1.10:5432/teslamate"
    assert describe_dsn(dsn) == "192.168.1.10:5432/teslamate as teslamate"
    assert describe_dsn("host=db dbname=tm") == "db:5432/tm"
    with pytest.raises(ValueError, match="not a PostgreSQL DSN"):
        describe_dsn("host=db port")


# --- against PostgreSQL --------------------------------------------------------------


@pytest.mark.service
def test_the_newest_row_of_private_tokens_is_read(teslamate_db, caplog):
    caplog.set_level(logging.INFO)
    teslamate_db.create_tokens_table("private")
    teslamate_db.create_tokens_table("public")  # left over from before 2.2: not used
    teslamate_db.store_tokens("old-access", "old-refresh", KEY, updated="now() - interval '1 h'")
    teslamate_db.store_tokens("public-access", "public-refresh", KEY, schema="public")
    new = access_token("new")
    teslamate_db.store_tokens(new, "new-refresh", KEY)
    teslamate_db.store_tokens("older", "older", KEY, updated="now() - interval '2 h'")
    cache = TeslaMateTokens(teslamate_db.dsn, KEY).load()
    sso = cache["teslamate"]["sso"]
    assert (sso["access_token"], sso["refresh_token"]) == (new, "new-refresh")
    assert sso["expires_at"] == token_expiry(new)
    assert "table private.tokens" in caplog.text
    assert new not in caplog.text and "new-refresh" not in caplog.text  # never a token


@pytest.mark.service
def test_public_tokens_before_teslamate_2_2(teslamate_db):
    teslamate_db.create_tokens_table("public")
    teslamate_db.store_tokens("a", "r", KEY, schema="public")
    sso = TeslaMateTokens(teslamate_db.dsn, KEY, account="me@example.org").load()["me@example.org"]
    assert sso["sso"]["access_token"] == "a" and "expires_at" not in sso["sso"]


@pytest.mark.service
def test_each_kind_of_trouble_is_one_clear_error_logged_once(teslamate_db, caplog):
    source = TeslaMateTokens(teslamate_db.dsn, "not the key")
    for _ in range(3):
        with pytest.raises(NotConfigured, match=r"has no table private\.tokens or public\.tokens"):
            source.load()
    teslamate_db.create_tokens_table()
    with pytest.raises(NotConfigured, match="is empty: sign in to TeslaMate first"):
        source.load()
    teslamate_db.store_tokens("a", "r", KEY)
    for _ in range(3):
        with pytest.raises(NotConfigured) as e:
            source.load()
    assert "teslamate_encryption_key does not decrypt TeslaMate's access token" in str(e.value)
    assert "set it to TeslaMate's ENCRYPTION_KEY" in str(e.value)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3, errors  # one per kind, not one per try


@pytest.mark.service
def test_a_token_for_another_tesla_host_is_not_handed_out(teslamate_db, caplog):
    """TeslaMate 4.x on the Fleet API (its TESLA_API_HOST): the Owner API would refuse it."""
    fleet_token = jwt(
        {"exp": 1_900_000_000, "aud": ["https://fleet-api.prd.eu.vn.cloud.tesla.com"]}
    )
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens(fleet_token, "r", KEY)
    source = TeslaMateTokens(teslamate_db.dsn, KEY, api_url="https://owner-api.teslamotors.com/")
    for _ in range(3):
        with pytest.raises(NotConfigured) as e:
            source.load()
    assert str(e.value).startswith(
        "TeslaMate's token is for fleet-api.prd.eu.vn.cloud.tesla.com, not "
        "owner-api.teslamotors.com: set tesla_api_url to the API host TeslaMate uses"
    )
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and fleet_token not in caplog.text
    right = TeslaMateTokens(
        teslamate_db.dsn, KEY, api_url="https://fleet-api.prd.eu.vn.cloud.tesla.com/"
    )
    assert right.load()["teslamate"]["sso"]["access_token"] == fleet_token


@pytest.mark.service
def test_an_unreachable_database_says_so():
    dsn = f"postgresql://teslamate:secretpw@127.0.0.1:{free_port()}/teslamate"
    with pytest.raises(NotConfigured) as e:
        TeslaMateTokens(dsn, KEY).load()
    message = str(e.value)
    assert message.startswith("cannot reach TeslaMate's database (127.0.0.1:")
    assert "teslamate_db_url" in message and "secretpw" not in message


# --- the back-end, read-only, against the simulator over HTTPS ---------------------------


@pytest.fixture
async def https_sim(test_ca):
    fleet = Fleet.with_cars(1)
    port = free_port()
    runner = await serve(fleet, "127.0.0.1", port, test_ca.server_context("localhost"))
    yield fleet, f"https://localhost:{port}/"
    await runner.cleanup()


@pytest.mark.service
async def test_teslamates_token_reaches_the_api_and_is_never_refreshed(
    teslamate_db, https_sim, test_ca
):
    fleet, url = https_sim
    teslamate_db.create_tokens_table()
    first = access_token("first")
    teslamate_db.store_tokens(first, "refresh-1", KEY)
    fleet.accepted_tokens = {first}
    backend = TeslapyBackend(url, TeslaMateTokens(teslamate_db.dsn, KEY), ca_file=test_ca.ca_file)
    try:
        vehicles = await backend.vehicles()
        assert fleet.bearer == {first: 1} and vehicles[0].vin == fleet.cars[0].vin
        # TeslaMate refreshed: the old token is refused (401), the row is read again
        second = access_token("second")
        teslamate_db.store_tokens(second, "refresh-2", KEY)
        fleet.accepted_tokens = {second}
        assert (await backend.summary(vehicles[0])) == "online"
        assert fleet.bearer == {first: 2, second: 1}
        assert fleet.calls["token"] == 0  # never refreshed here
    finally:
        backend.close()


@pytest.mark.service
async def test_a_token_that_is_no_jwt_reaches_the_api(teslamate_db, https_sim, test_ca):
    """Issue 18: no `exp` to read, so no expiry: teslapy must still take the token."""
    fleet, url = https_sim
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens("qts-0123456789abcdef", "r", KEY)
    fleet.accepted_tokens = {"qts-0123456789abcdef"}
    backend = TeslapyBackend(url, TeslaMateTokens(teslamate_db.dsn, KEY), ca_file=test_ca.ca_file)
    try:
        assert [v.vin for v in await backend.vehicles()] == [fleet.cars[0].vin]
        assert fleet.bearer == {"qts-0123456789abcdef": 1} and fleet.calls["token"] == 0
    finally:
        backend.close()


@pytest.mark.service
async def test_an_expired_token_is_read_again_not_refreshed(teslamate_db, https_sim, test_ca):
    fleet, url = https_sim
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens(access_token("old", valid_s=-60), "r", KEY)
    backend = TeslapyBackend(url, TeslaMateTokens(teslamate_db.dsn, KEY), ca_file=test_ca.ca_file)
    try:
        with pytest.raises(Unauthorized, match="check that TeslaMate is running"):
            await backend.vehicles()
        fresh = access_token("fresh")
        teslamate_db.store_tokens(fresh, "r2", KEY)
        await backend.vehicles()
        assert list(fleet.bearer) == [fresh] and fleet.calls["token"] == 0
    finally:
        backend.close()


@pytest.mark.service
async def test_a_token_tesla_refuses_for_good_says_sign_in_to_teslamate(
    teslamate_db, https_sim, test_ca
):
    fleet, url = https_sim
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens(access_token("revoked"), "r", KEY)
    fleet.accepted_tokens = {"something-else"}
    backend = TeslapyBackend(url, TeslaMateTokens(teslamate_db.dsn, KEY), ca_file=test_ca.ca_file)
    try:
        with pytest.raises(Unauthorized, match="sign in to TeslaMate again"):
            await backend.vehicles()
    finally:
        backend.close()
    await asyncio.sleep(0)


@pytest.mark.service
@pytest.mark.parametrize(
    "audience, says",
    [
        (["https://localhost/"], "and it is for localhost: TeslaMate lost its sign-in"),
        (
            ["https://owner-api.teslamotors.com/"],
            "TeslaMate's token is for owner-api.teslamotors.com: set tesla_api_url to the API "
            "host TeslaMate uses",
        ),
    ],
)
async def test_a_refusal_says_which_host_the_token_is_for(
    teslamate_db, https_sim, test_ca, audience, says
):
    fleet, url = https_sim
    token = jwt({"exp": 1_900_000_000, "aud": audience})
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens(token, "r", KEY)
    fleet.accepted_tokens = {"something-else"}
    source = TeslaMateTokens(teslamate_db.dsn, KEY, api_url=url)
    backend = TeslapyBackend(url, source, ca_file=test_ca.ca_file)
    try:
        with pytest.raises(Unauthorized) as e:
            await backend.vehicles()
        message = str(e.value)
        assert message.startswith("list the cars: localhost refused TeslaMate's token (HTTP 401)")
        assert says in message and token not in message
        assert fleet.bearer == {token: 1} and fleet.calls["token"] == 0  # read again, not resent
    finally:
        backend.close()


@pytest.mark.service
async def test_a_routine_reread_that_fails_keeps_the_valid_token(teslamate_db, https_sim, test_ca):
    fleet, url = https_sim
    teslamate_db.create_tokens_table()
    token = access_token("valid")
    teslamate_db.store_tokens(token, "r", KEY)
    source = TeslaMateTokens(teslamate_db.dsn, KEY)
    backend = TeslapyBackend(url, source, ca_file=test_ca.ca_file)
    try:
        await backend.vehicles()
        source.dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/gone"  # the database is down
        backend._tokens_read_at -= source.reread_s  # the routine re-read is due
        await backend.vehicles()
        assert fleet.bearer == {token: 2}
    finally:
        backend.close()
