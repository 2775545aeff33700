import numpy as np
import pytest

from bayesml._rformat import format_table, r_call, r_mad, r_num, r_round


@pytest.mark.parametrize(
    "x, text",
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (288.7, "288.7"),
        (59.3, "59.3"),
        (100000.0, "1e+05"),
        (123456.0, "123456"),
        (0.0001, "1e-04"),
        (0.001, "0.001"),
        (-0.802585092994046, "-0.802585092994046"),
        (1 / 3, "0.333333333333333"),
        (2.5, "2.5"),
    ],
)
def test_r_num_matches_as_character(x, text):
    assert r_num(x) == text


def test_r_round_halves_follow_the_stored_double():
    # 0.15 is stored just below .15, 0.45 just above, 0.25 exactly (tie to even)
    assert [r_round(v, 1) for v in (0.15, 0.25, 0.35, 0.45)] == [0.1, 0.2, 0.3, 0.5]


def test_r_mad_uses_the_normal_consistency_constant():
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    assert r_mad(x) == pytest.approx(1.4826 * 1.0)


def test_r_call_formats_arguments_like_brms():
    assert r_call("student_t", (3, 288.7, 59.3)) == "student_t(3, 288.7, 59.3)"
    assert r_call("student_t", (3.0, 0.0, 2.5)) == "student_t(3, 0, 2.5)"


def test_format_table_right_justifies_and_wraps_at_80_columns():
    header = ["a" * 30, "b" * 30, "c" * 30]
    rows = [["x", "y", "z"]]
    lines = format_table(header, rows)
    # two columns fit (62 characters), the third moves to a second block
    assert lines[0] == " " + "a" * 30 + " " + "b" * 30
    assert lines[1] == " " + "x".rjust(30) + " " + "y".rjust(30)
    assert lines[2] == " " + "c" * 30
    assert lines[3] == " " + "z".rjust(30)


def test_format_table_row_names_are_left_justified():
    lines = format_table(["Estimate"], [["1.00"], ["20.00"]], row_names=["sd(Intercept)", "x"])
    assert lines == ["              Estimate", "sd(Intercept)     1.00", "x                20.00"]
