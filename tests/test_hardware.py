"""The one hardware line every benchmark table is printed with."""

from reactdiff.hardware import hardware_line, numerics


def test_the_hardware_line_carries_the_numerics_and_each_scripts_details():
    line = hardware_line("numpy 9.9", "", "device cpu")
    assert line.startswith("hardware: ")
    # Tables from runs with different rounding must be told apart (docs/training.md).
    assert numerics() in line
    assert line.endswith("; numpy 9.9; device cpu")  # empty details are left out
