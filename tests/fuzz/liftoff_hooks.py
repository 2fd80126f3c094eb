"""Schemathesis hooks for fuzzing Liftoff's /graphql (run by `cargo xtask stress`).

Liftoff answers bad input with GraphQL errors carrying a stable `code`
(INVALID_INPUT, NOT_FOUND, ...): that is the expected outcome, so the
default "no errors entry" check does not apply. What must never happen is
an HTTP 5xx, an error coded INTERNAL, or a non-JSON answer.
"""
import json

import schemathesis
from graphql.language import IntValueNode, StringValueNode
from hypothesis import strategies as st

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)

# JSONString: any JSON document, as a string (and sometimes not JSON at all).
schemathesis.graphql.scalar("JSONString", (_json.map(json.dumps) | st.text(max_size=30)).map(lambda s: StringValueNode(value=s)))
schemathesis.graphql.scalar("JSON", st.text(max_size=30).map(lambda s: StringValueNode(value=s)))
schemathesis.graphql.scalar("Int64", st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda n: IntValueNode(value=str(n))))


@schemathesis.check
def liftoff_never_fails_internally(ctx, response, case):
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"not JSON: {response.text[:300]}")
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL", f"internal error: {error}"
