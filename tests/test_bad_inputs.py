"""Every bad input of the catalogue (tests/bad_inputs.py) gives its error, with a message that
names the part at fault, before anything is sampled."""

from __future__ import annotations

import re

import pytest

from .bad_inputs import CASES, Context


@pytest.fixture(scope="module")
def context(sleep, tmp_path_factory):
    return Context(sleep, tmp_path_factory.mktemp("bad_inputs"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.area}: {c.what}" for c in CASES])
def test_bad_input_gives_a_clear_error(case, context):
    with pytest.raises(case.error) as err:
        case.call(context)
    message = str(err.value)
    assert re.search(case.message, message, re.S), message


def test_the_catalogue_covers_every_area():
    areas = {c.area for c in CASES}
    assert areas == {
        "formula",
        "data",
        "family",
        "prior",
        "sampling",
        "predict",
        "results",
        "smooths",
        "files",
        "response terms",
    }
    assert len(CASES) >= 70
