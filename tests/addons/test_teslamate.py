"""The TeslaMate options: checked at configure time with messages that say what is wrong."""

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from addons.teslamate import TeslaMate


@pytest.mark.parametrize(
    "options, words",
    [
        ({"teslamate_mqtt_url": "tcp://host:1883"}, "must start with mqtt://"),
        ({"teslamate_mqtt_url": "mqtt://u:secret@host/x"}, "only mqtt"),
        ({"teslamate_mqtt_ca_file": "/no/such/ca.pem"}, "no such file"),
        ({"teslamate_cars": ["1:5YJ3"]}, "teslamate_cars"),
        ({"teslamate_silence_s": 5}, "10..86400"),
        ({"teslamate_db_url": "host=db port"}, "not a PostgreSQL DSN"),
        ({"teslamate_db_url": "postgresql://tm@db/teslamate"}, "needs teslamate_encryption_key"),
    ],
)
def test_bad_options_are_refused(options, words):
    teslamate = TeslaMate()
    with taddons.context(teslamate) as tctx:
        with pytest.raises(exceptions.OptionsError, match=words) as e:
            tctx.configure(teslamate, **options)
        assert "secret" not in str(e.value)


def test_good_options_pass_and_nothing_runs_while_off():
    teslamate = TeslaMate()
    with taddons.context(teslamate) as tctx:
        tctx.configure(teslamate)  # the defaults: off
        assert teslamate.start_feed(clock=None) is None
        tctx.configure(
            teslamate,
            teslamate_mqtt_url="mqtts://teslahome:pw@192.168.1.10",
            teslamate_namespace="home",
            teslamate_cars=["1=2", "2=5YJ3E7EA1KF000001"],
            teslamate_silence_s=120,
            teslamate_db_url="postgresql://teslamate:pw@192.168.1.10:5432/teslamate",
            teslamate_encryption_key="the-key",
        )
