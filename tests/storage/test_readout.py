import pytest

from storage.catalogue import catalogue
from storage.readout import format_value, value_lines


def test_values_are_sorted_by_group_and_unknown_ids_come_last_as_numbers():
    lines = value_lines({999: 1.0, 101: 3.9, 442: 50.0, 2: 21.5, 5000: 2.0}, catalogue())
    firsts = [line.split()[0] for line in lines]
    assert firsts == ["Battery", "2", "Drive", "442", "Cells", "101", "Not", "999", "5000"]
    assert " ".join(lines[-1].split()) == "5000 id 5000 2"


def test_numbers_line_up_on_the_decimal_point():
    lines = value_lines({43: 1.1858, 415: 458.5, 426: -673.75681}, catalogue())
    dots = {line.index(".") for line in lines if "." in line}
    assert len(dots) == 1


@pytest.mark.parametrize(
    "value, text",
    [
        (458.5, "458.5"),
        (-1.759999999999998, "-1.76"),
        (6.3000000000000007, "6.3"),
        (-673.75681818182375, "-673.7568"),
        (123456.7, "123456.7"),
        (42.0, "42"),
        (0.0, "0"),
        (-0.00001, "-1e-05"),
        (-0.00004, "-4e-05"),
        (0.00012345, "0.000123"),
        (-0.00000, "0"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_notes_can_be_replaced():
    lines = value_lines({43: 1.5}, catalogue(), notes=lambda info: f"key {info.key}")
    assert lines[1].endswith("kW  key battery_power")
