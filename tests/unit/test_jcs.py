"""Our RFC 8785 encoder against the rfc8785 reference package, on arbitrary JSON."""

import os

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.credentials.jcs import canonical_json

EXAMPLES = int(os.environ.get("CAIRN_PROPERTY_EXAMPLES", "300"))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(json_values)
def test_same_bytes_as_the_reference(value):
    assert canonical_json(value).encode() == rfc8785.dumps(value)


def test_key_order_is_by_utf16_code_units():
    """U+10000 sorts before U+FFFD in UTF-16 (a surrogate pair starts 0xD800), not in code points."""
    value = {"\ufffd": 1, "\U00010000": 2, "a": 3}
    assert canonical_json(value) == '{"a":3,"\U00010000":2,"\ufffd":1}'
    assert canonical_json(value).encode() == rfc8785.dumps(value)
