"""The Publisher: newest payload per topic, bounded in flight, resent after a reconnect."""

import asyncio

import pytest

from wallbox.mqtt.publisher import Publisher


class FakeBroker:
    """Records what the publisher hands over; acknowledges only when told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bool]] = []
        self.mids: list[int] = []

    def send(self, topic: str, payload: str, retain: bool) -> int:
        self.sent.append((topic, payload, retain))
        self.mids.append(len(self.sent))
        return len(self.sent)


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_nothing_is_sent_while_disconnected_and_everything_after():
    broker = FakeBroker()
    publisher = Publisher(broker.send, interval_s=0)
    for i in range(1000):
        publisher.put("car/speed", str(i))  # a broker that is down: one payload kept per topic
    publisher.put("car/soc", "60")
    await settle()
    assert broker.sent == [] and len(publisher.waiting) == 2
    publisher.connection(True)
    assert broker.sent == [("car/speed", "999", True), ("car/soc", "60", True)]


async def test_changes_within_the_interval_become_one_message():
    broker = FakeBroker()
    publisher = Publisher(broker.send, interval_s=0.05)
    publisher.connection(True)
    for i in range(50):
        publisher.put("car/speed", str(i))
    assert broker.sent == []
    await asyncio.sleep(0.1)
    assert broker.sent == [("car/speed", "49", True)]
    assert publisher.stats.superseded == 49
    publisher.put("car/speed", "49")  # unchanged: the broker has it
    await asyncio.sleep(0.1)
    assert len(broker.sent) == 1


async def test_a_stalled_broker_gets_at_most_the_window():
    broker = FakeBroker()
    publisher = Publisher(broker.send, interval_s=0, window=10)
    publisher.connection(True)
    for i in range(100):
        publisher.put(f"car/v{i}", "1")
    await settle()
    assert len(broker.sent) == 10  # no acknowledgements: the rest waits here, not in paho
    for i in range(100):
        publisher.put(f"car/v{i}", "2")  # newer values replace the waiting ones
    await settle()
    assert len(broker.sent) == 10 and len(publisher.waiting) == 100
    for mid in list(broker.mids):
        publisher.acknowledged(mid)
        await settle()
    assert len(broker.sent) > 10


async def test_a_reconnect_sends_the_retained_state_again():
    broker = FakeBroker()
    publisher = Publisher(broker.send, interval_s=0)
    publisher.connection(True)
    publisher.put("a", "1")
    publisher.put("r", "x", retain=False)
    publisher.put("gone", "1")
    await settle()
    publisher.clear("gone")
    await settle()
    broker.sent.clear()
    publisher.connection(False)
    publisher.connection(True)  # a restarted broker may have forgotten everything
    assert broker.sent == [("a", "1", True)]


@pytest.mark.parametrize("interval", [0, 0.01])
async def test_a_failing_send_does_not_stop_the_others(interval):
    sent = []

    def send(topic, payload, retain):
        if topic == "bad":
            raise ValueError("topic too long")
        sent.append(topic)
        return len(sent)

    publisher = Publisher(send, interval_s=interval)
    publisher.connection(True)
    publisher.put("bad", "1")
    publisher.put("good", "1")
    await asyncio.sleep(0.05)
    assert sent == ["good"]
