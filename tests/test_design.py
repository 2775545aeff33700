import numpy as np
import pandas as pd
import pytest

from bayesml import DataWarning, FormulaError, make_design


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    n = 24
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": np.tile([0.0, 1.0, 2.0, 3.0], 6),
            "z": rng.normal(size=n),
            "f": pd.Categorical(np.repeat(["a", "b", "c"], 8)),
            "g": np.repeat([10, 2, 3, 4, 5, 6], 4),
            "h": np.tile(["u", "v"], 12),
        }
    )


def test_sleepstudy_design_is_centred(sleep):
    d = make_design("Reaction ~ Days + (Days | Subject)", sleep)
    assert d.nobs == 180
    assert d.fixed.coefs == ("Days",)
    assert d.fixed.intercept
    assert d.fixed.means == pytest.approx([4.5])
    assert d.fixed.Xc.mean(axis=0) == pytest.approx([0.0])
    (blk,) = d.blocks
    assert blk.coefs == ("Intercept", "Days") and blk.has_cor
    assert blk.n_levels == 18 and blk.levels[0] == "308"
    assert np.array_equal(blk.Z[:, 1], sleep["Days"].to_numpy(dtype=float))


def test_numeric_grouping_column_is_a_factor_with_numeric_level_order(toy):
    d = make_design("y ~ x + (1 | g)", toy)
    assert d.blocks[0].levels == ("2", "3", "4", "5", "6", "10")
    assert d.blocks[0].index[:4].tolist() == [5, 5, 5, 5]


def test_treatment_contrasts_and_r_column_order(toy):
    d = make_design("y ~ x*f + z", toy)
    # R's model.matrix: main effects first, then interactions; levels pasted to the name
    assert d.fixed.coefs == ("x", "fb", "fc", "z", "x:fb", "x:fc")
    fb = d.fixed.X[:, d.fixed.coefs.index("fb")]
    assert fb.tolist() == (toy["f"] == "b").astype(float).tolist()


def test_no_intercept_gives_all_factor_levels_uncentred(toy):
    d = make_design("y ~ 0 + f", toy)
    assert not d.fixed.intercept
    assert d.fixed.coefs == ("fa", "fb", "fc")
    assert np.array_equal(d.fixed.Xc, d.fixed.X)
    assert make_design("y ~ f - 1", toy).fixed.coefs == ("fa", "fb", "fc")


def test_nested_groups_paste_levels(toy):
    d = make_design("y ~ 1 + (1 | h/g)", toy)
    assert [b.group for b in d.blocks] == ["h", "h:g"]
    assert d.blocks[1].levels[:3] == ("u_10", "u_2", "u_3")
    assert d.blocks[1].n_levels == 12


def test_same_group_in_two_terms_gives_two_uncorrelated_blocks(toy):
    d = make_design("y ~ x + (1 | g) + (0 + x | g)", toy)
    assert [(b.id, b.group, b.coefs, b.has_cor) for b in d.blocks] == [
        (1, "g", ("Intercept",), False),
        (2, "g", ("x",), False),
    ]
    assert d.groups == ("g",)
    assert d.group_coefs("g") == ("Intercept", "x")


def test_intercept_columns_are_unit_columns(toy):
    # the model adds an intercept's effects without multiplying by its column of ones
    d = make_design("y ~ x + (1 | g) + (x | h) + (0 + x | f)", toy)
    assert [[b.unit_column(j) for j in range(len(b.coefs))] for b in d.blocks] == [
        [True],
        [True, False],
        [False],
    ]


def test_uncorrelated_block(toy):
    (blk,) = make_design("y ~ x + (x || g)", toy).blocks
    assert blk.coefs == ("Intercept", "x") and not blk.has_cor


def test_group_level_predictor_constant_within_groups(toy):
    toy = toy.assign(w=toy["g"].map({10: 1.0, 2: 0.5, 3: 0.2, 4: 0.1, 5: 0.0, 6: -1.0}))
    d = make_design("y ~ x + w + (1 | g)", toy)
    assert d.fixed.coefs == ("x", "w")


def test_duplicated_effect_for_one_group_is_an_error(toy):
    with pytest.raises(
        FormulaError, match="Duplicated group-level effect 'Intercept' for group 'g'"
    ):
        make_design("y ~ x + (1 | g) + (1 + x | g)", toy)


def test_missing_column_is_named_with_the_available_ones(sleep):
    with pytest.raises(KeyError) as info:
        make_design("Reaction ~ Dayz + (1 | Subject)", sleep)
    msg = str(info.value)
    assert "Column 'Dayz'" in msg and "formula term 'Dayz'" in msg
    assert "Available columns: Reaction, Days, Subject" in msg


def test_missing_grouping_column_names_the_term(sleep):
    with pytest.raises(
        KeyError, match=r"Column 'Subj' \(used in formula term '\(Days \| Subj\)'\)"
    ):
        make_design("Reaction ~ Days + (Days | Subj)", sleep)


def test_missing_response_column(sleep):
    with pytest.raises(KeyError, match="Column 'RT'"):
        make_design("RT ~ Days", sleep)


def test_rows_with_na_are_dropped_with_a_count(sleep):
    data = sleep.copy()
    data.loc[[0, 5, 7], "Days"] = np.nan
    data.loc[9, "Reaction"] = np.nan
    data["unused"] = np.nan  # columns the model does not use never drop rows
    with pytest.warns(
        DataWarning,
        match=r"excluded from the model: 4 of 180 rows \(missing values in Reaction, Days\)",
    ):
        d = make_design("Reaction ~ Days + (1 | Subject)", data)
    assert d.nobs == 176 and d.n_dropped == 4


def test_functions_in_formulas(sleep):
    d = make_design("log(Reaction) ~ Days + (1 | Subject)", sleep)
    assert d.y[0] == pytest.approx(np.log(249.56))


def test_data_must_be_a_table():
    with pytest.raises(TypeError, match="data must be a pandas, polars or pyarrow table, got dict"):
        make_design("y ~ x", {"y": [1.0], "x": [2.0]})
