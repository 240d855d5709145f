"""Property-based fuzzing of the walkthrough's option parsers: a result or one clean line."""

from __future__ import annotations

import contextlib
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.cli import main

_numberish = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.text(alphabet="0123456789.,;-+eE naif\u2212 \t", max_size=30),
    st.text(max_size=12),
)
_option = st.sampled_from(
    ["--inputs", "--wx", "--wh", "--b", "--wout", "--bout", "--h0", "--scale", "--standard"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_option, _numberish), max_size=4))
def test_walkthrough_options_never_crash(pairs):
    argv = ["walkthrough", "--json"]
    for option, value in pairs:
        argv += [option, value]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    out, err = out.getvalue(), err.getvalue()
    if code == 0:
        data = json.loads(out)  # one JSON object, finite numbers only (print_json refuses NaN)
        assert len(data["steps"]) >= 1
        assert err == ""
    else:
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1
        assert err.startswith("rnnlab: error: ")
