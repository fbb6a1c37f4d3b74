"""The MQTT connection: URL parsing (pure), and connect, deliver, reconnect against a
real Mosquitto (the machine's on 127.0.0.1:1883, or one started for the test)."""

import asyncio
import logging
import uuid

import pytest

from support.broker import Broker, mosquitto_binary, publish
from wallbox.mqtt.link import BrokerUrl, MqttLink, parse_broker_url


@pytest.mark.parametrize(
    "url, expected",
    [
        ("mqtt://localhost", BrokerUrl("localhost", 1883)),
        ("mqtts://broker.home", BrokerUrl("broker.home", 8883, tls=True)),
        ("mqtt://192.168.1.10:1884", BrokerUrl("192.168.1.10", 1884)),
        (" mqtt://user:pa%40ss@host:1 ", BrokerUrl("host", 1, False, "user", "pa@ss")),
        ("mqtt://user@host", BrokerUrl("host", 1883, False, "user", None)),
        ("mqtt://[::1]:1883", BrokerUrl("::1", 1883)),
        ("mqtt://host/", BrokerUrl("host", 1883)),
    ],
)
def test_parse_broker_url(url, expected):
    assert parse_broker_url(url) == expected


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://host", "must start with mqtt:// or mqtts://"),
        ("host:1883", "must start with mqtt://"),
        ("mqtt://", "has no host"),
        ("mqtt://host:99999", "invalid port"),
        ("mqtt://host/topic", "only mqtt[s]://"),
        ("mqtt://host?x=1", "only mqtt[s]://"),
    ],
)
def test_bad_broker_urls_say_what_is_wrong(url, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        parse_broker_url(url)


def test_a_password_never_appears_in_messages():
    with pytest.raises(ValueError) as e:
        parse_broker_url("mqtt://me:secret123@host/x")
    assert "secret123" not in str(e.value) and "***" in str(e.value)
    assert "secret123" not in str(parse_broker_url("mqtt://me:secret123@host"))


async def wait_for(condition, within=10.0):
    for _ in range(int(within / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("condition not met")


@pytest.mark.service
async def test_retained_and_live_messages_reach_the_loop(broker: Broker):
    topic = f"teslahome-test/{uuid.uuid4().hex}"
    publish(broker, f"{topic}/a", "retained-1", retain=True)
    heard: list[tuple[str, bytes, bool]] = []
    states: list[bool] = []
    loop = asyncio.get_running_loop()
    link = MqttLink(
        broker.url,
        topics=[f"{topic}/#"],
        on_message=lambda t, p, r: heard.append((t, p, r)) or _on_loop(loop),
        on_connection=lambda up, why: states.append(up),
    )
    link.start()
    try:
        await wait_for(lambda: heard)
        assert heard[0] == (f"{topic}/a", b"retained-1", True) and link.connected
        publish(broker, f"{topic}/b", "live")
        await wait_for(lambda: len(heard) == 2)
        assert heard[1] == (f"{topic}/b", b"live", False)
    finally:
        link.close()
        publish(broker, f"{topic}/a", "", retain=True)  # leave the broker as it was
    assert states[0] is True


def _on_loop(loop):
    assert asyncio.get_running_loop() is loop  # delivered on the loop, not paho's thread


@pytest.mark.service
async def test_reconnects_and_subscribes_again_when_the_broker_restarts(tmp_path):
    if mosquitto_binary() is None:
        pytest.skip("no mosquitto binary to start a broker of our own")
    own = Broker.start_own(tmp_path)
    topic = f"teslahome-test/{uuid.uuid4().hex}"
    heard: list[bytes] = []
    states: list[bool] = []
    link = MqttLink(
        own.url,
        topics=[topic],
        on_message=lambda t, p, r: heard.append(p),
        on_connection=lambda up, why: states.append(up),
    )
    link.start()
    try:
        await wait_for(lambda: link.connected)
        own.stop()
        await wait_for(lambda: not link.connected)
        own.start_again()
        await wait_for(lambda: link.connected, within=20)
        await asyncio.sleep(0.2)  # the subscription goes out right after the connect
        publish(own, topic, "after the restart")
        await wait_for(lambda: heard == [b"after the restart"])
        assert states[:3] == [True, False, True]
    finally:
        link.close()
        own.stop()


async def test_an_unreachable_broker_is_retried_quietly(caplog, tmp_path):
    from support.ports import free_port

    url = BrokerUrl("127.0.0.1", free_port())
    link = MqttLink(url, what="test MQTT")
    link.start()
    try:
        await wait_for(lambda: "cannot reach the broker" in caplog.text)
        await asyncio.sleep(2.5)  # at least one more try
    finally:
        link.close()
    assert caplog.text.count("cannot reach the broker") == 1
    assert not link.connected


@pytest.mark.service
async def test_mqtts_with_a_ca_file_and_credentials_in_the_url(tmp_path, test_ca):
    if mosquitto_binary() is None:
        pytest.skip("no mosquitto binary to start a TLS broker of our own")
    test_ca.server_context("localhost")  # writes localhost.crt and .key
    own = Broker.start_own(tmp_path, tls=(test_ca.path / "localhost.crt",
                                          test_ca.path / "localhost.key"))  # fmt: skip
    url = parse_broker_url(f"mqtts://someone:pw@localhost:{own.url.port}")
    link = MqttLink(url, topics=["t"], ca_file=test_ca.ca_file)
    link.start()
    try:
        await wait_for(lambda: link.connected)
    finally:
        link.close()
        own.stop()


@pytest.mark.service
async def test_a_failing_handler_is_logged_once_and_the_link_lives_on(broker: Broker, caplog):
    """Issue 18: neither a handler on the loop nor paho's thread ends with the failure."""
    topic = f"teslahome-test/{uuid.uuid4().hex}"
    heard: list[bytes] = []

    def handler(t, payload, r) -> None:
        if payload.startswith(b"bad"):
            raise ValueError("a bug in the handler")
        heard.append(payload)

    link = MqttLink(broker.url, topics=[topic], on_message=handler, what="test MQTT")
    to_loop, thread_failures = link._to_loop, [1]

    def broken_to_loop(*args) -> None:  # raises in paho's network thread, once
        if thread_failures:
            thread_failures.pop()
            raise RuntimeError("a bug in paho's thread")
        to_loop(*args)

    link.start()
    try:
        await wait_for(lambda: link.connected)
        await asyncio.sleep(0.2)  # the subscription goes out right after the connect
        link._to_loop = broken_to_loop
        for payload in ("lost in the thread", "bad 1", "bad 2", "good"):
            publish(broker, topic, payload)
        await wait_for(lambda: heard == [b"good"])
    finally:
        link.close()
    errors = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name == "wallbox.supervisor"
    ]
    assert errors == [
        "test MQTT: paho's network thread failed unexpectedly (RuntimeError: a bug in paho's "
        "thread); going on",
        "test MQTT: handling a message failed unexpectedly (ValueError: a bug in the handler); "
        "going on",
    ]
