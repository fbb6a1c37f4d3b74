import pytest

from storage.catalogue import GROUP_TITLES, ValueInfo, catalogue, parse

HEADER = "id,key,name,unit,group,teslalogger,ha_device_class,ha_state_class,description,source\n"


def test_teslaloggers_own_names_are_kept():
    """PROTOCOL.md section 2: the ids TeslaLogger reads by name."""
    names = catalogue()
    expected = {
        2: "SMTCellTempAvg",
        5: "SMTCellMinV",
        6: "SMTCellAvgV",
        7: "SMTCellMaxV",
        9: "SMTACChargeTotal",
        11: "SMTDCChargeTotal",
        27: "SMTCellImbalance",
        28: "SMTBMSmaxCharge",
        29: "SMTBMSmaxDischarge",
        43: "SMTBatteryPower",
        71: "SMTNominalFullPack",
        442: "SMTSpeed",
    }
    assert {i: v.teslalogger for i, v in names.items() if v.teslalogger} == expected


@pytest.mark.parametrize(
    "value_id, name, unit, group",
    [
        (1, "Cell temp min", "°C", "battery"),
        (27, "Cell imbalance", "mV", "battery"),
        (43, "Battery power", "kW", "battery"),
        (44, "Battery current", "A", "battery"),
        (71, "Nominal full pack", "kWh", "energy"),
        (87, "Energy buffer", "kWh", "energy"),
        (1000, "SOH", "%", "energy"),
        (32, "12v systems", "W", "power"),  # Grafana divides by 1000 to show kW
        (415, "Rr mech power", "kW", "drive"),
        (426, "Consumption", "Wh/km", "drive"),
        (442, "Speed", "km/h", "drive"),
        (444, "Powertrain flow", "L/min", "thermal"),
        (58, "Inside temp", "°C", "climate"),
        (101, "Cell 1 voltage", "V", "cells"),
        (208, "Cell 108 voltage", "V", "cells"),
        (301, "Cell 1 temp", "°C", "cells"),
        (340, "Cell 40 temp", "°C", "cells"),
    ],
)
def test_known_ids(value_id, name, unit, group):
    info = catalogue().info(value_id)
    assert (info.name, info.unit, info.group) == (name, unit, group)
    assert info.known


def test_every_id_of_protocol_section_3_is_named():
    listed = [
        *range(1, 10), 11, 13, 16, 20, *range(23, 66), *range(67, 88), *range(90, 97),
        *range(101, 209), *range(301, 341), 400, 401, *range(403, 406), 415, 418, 426,
        429, 435, 442, 443, 444, 445, 1000,
    ]  # fmt: skip
    missing = [i for i in listed if i not in catalogue()]
    assert missing == []


def test_unknown_ids_stay_visible_as_numbers():
    info = catalogue().info(999)
    assert (info.key, info.name, info.unit, info.known) == ("id_999", "id 999", "", False)


def test_keys_are_unique_snake_case_and_ranges_expand():
    names = catalogue()
    keys = [v.key for v in names.values()]
    assert len(keys) == len(set(keys))
    assert names[150].key == "cell_voltage_50"
    assert names[320].key == "cell_temp_20"


def test_display_order_is_catalogue_order_then_unknown_by_number():
    names = catalogue()
    ids = [999, 101, 442, 43, 5000, 2]
    assert sorted(ids, key=names.order) == [2, 43, 442, 101, 999, 5000]


def test_home_assistant_classes_for_battery_and_drive():
    names = catalogue()
    assert (names[43].ha_device_class, names[43].ha_state_class) == ("power", "measurement")
    assert (names[9].ha_device_class, names[9].ha_state_class) == ("energy", "total_increasing")
    assert names[71].ha_device_class == "energy_storage"
    assert names[442].ha_device_class == "speed"
    assert names[2].ha_device_class == "temperature"
    assert names[24].ha_device_class == "battery"
    assert all(v.group in GROUP_TITLES for v in names.values())


def test_label_has_the_unit_when_there_is_one():
    assert catalogue()[43].label == "Battery power [kW]"
    assert ValueInfo(45, "hvac_on", "HVAC on/off").label == "HVAC on/off"


@pytest.mark.parametrize(
    "row, message",
    [
        ("x,a,A,,battery,,,,,grafana", "is not a number"),
        ("5-3,a_{n},A {n},,battery,,,,,grafana", "runs backwards"),
        ("1,a,A,,nowhere,,,,,grafana", "unknown group"),
        ("1,a,A,,other,,,,,grafana", "unknown group"),
        ("1,a,A,,battery,,,sometimes,,grafana", "unknown ha_state_class"),
        ("1,a,A,,battery,,,,,a blog", "unknown source"),
        ("1-3,a,A,,battery,,,,,grafana", "needs {n}"),
        ("1,a_{n},A {n},,battery,,,,,grafana", "needs {n}"),
        ("1,Bad Key,A,,battery,,,,,grafana", "not snake_case"),
        ("1,a,A,,battery,,,,,grafana\n1,b,B,,battery,,,,,grafana", "id 1 is listed twice"),
        ("1,a,A,,battery,,,,,grafana\n2,a,B,,battery,,,,,grafana", "key a is used twice"),
    ],
)
def test_mistakes_in_the_data_are_named(row, message):
    with pytest.raises(ValueError, match=message):
        parse(HEADER + row + "\n")


def test_wrong_columns_are_refused():
    with pytest.raises(ValueError, match="columns must be"):
        parse("id,name\n1,a\n")
