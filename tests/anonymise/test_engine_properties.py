"""Properties of the engine over random data (hypothesis).

Pseudonymisation is deterministic for one key and unrelated across keys, and no
original value of a pseudonymised or dropped column survives anywhere in the
output: not in any cell of any column, not in the CSV text written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from infoshare.anonymise.datasets import write_dataset
from infoshare.anonymise.operations import apply_plan, pseudonymise_value
from infoshare.anonymise.plan import ColumnStep, Plan

# Values as spreadsheets hold them: any printable text, sometimes padded or blank.
cells = st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",)), max_size=12))
keys = st.binary(min_size=16, max_size=80)  # keys.MINIMUM_KEY_BYTES upwards
# A marker no token (P + hex), heading or kept value contains, so finding an original
# value in the written text can only mean it leaked. No quote or comma: the CSV writer
# would escape those, and the search must see the value as written.
MARKER = "~"
secret_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters='",~'),
    min_size=1,
    max_size=10,
).map(lambda text: MARKER + text)
kept_text = st.text("0123456789", max_size=6)


def _pseudonymised(values: list[str | None], key: bytes) -> list[str | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
    plan = Plan(steps=(ColumnStep("v", "pseudonymise"),))
    return apply_plan(frame, plan, key=key).frame.get_column("v").to_list()


@settings(max_examples=50, deadline=None)
@given(values=st.lists(cells, max_size=30), key=keys)
def test_one_key_gives_the_same_tokens_every_time(values, key):
    first = _pseudonymised(values, key)
    assert _pseudonymised(values, key) == first
    expected = [
        pseudonymise_value(value, key) if value is not None and value.strip() else None
        for value in values
    ]
    assert first == expected


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=30),
    key=keys,
    other_key=keys,
)
def test_different_keys_give_unrelated_tokens(values, key, other_key):
    distinct = sorted({v.strip() for v in values if v.strip()})
    # HMAC pads a key with zero bytes to SHA-256's block, so keys that differ only in
    # trailing zero bytes are one key (RFC 2104); keys.py reads random keys of 16+ bytes.
    assume(key.rstrip(b"\0") != other_key.rstrip(b"\0") and distinct)
    one = set(_pseudonymised(distinct, key))
    other = set(_pseudonymised(distinct, other_key))
    assert len(one) == len(distinct), "distinct values give distinct tokens"
    assert one.isdisjoint(other)


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.tuples(secret_text, secret_text, kept_text, st.sampled_from(["  ", " ", ""])),
        min_size=1,
        max_size=25,
    ),
    key=keys,
)
def test_no_original_value_of_a_pseudonymised_or_dropped_column_survives(rows, key):
    frame = pl.DataFrame(
        {
            # Padding as exports have it: the trimmed value must not survive either.
            "Secret": [padding + secret + padding for secret, _, _, padding in rows],
            "Gone": [gone for _, gone, _, _ in rows],
            "Kept": [kept for _, _, kept, _ in rows],
        }
    )
    plan = Plan(
        steps=(
            ColumnStep("Secret", "pseudonymise"),
            ColumnStep("Gone", "drop"),
            ColumnStep("Kept", "keep"),
        )
    )
    output = apply_plan(frame, plan, key=key).frame
    originals = {value for secret, gone, _, _ in rows for value in (secret, gone)}
    originals |= {value.strip() for value in originals if value.strip()}
    cells_out = {cell for column in output.iter_columns() for cell in column.to_list()}
    assert cells_out.isdisjoint(originals)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.csv"
        write_dataset(output, path)
        text = path.read_text(encoding="utf-8-sig")
    assert MARKER not in text
    for value in originals:
        assert value not in text
