"""The re-identification risk report against a plain computation (issue 8, item 4)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infoshare.anonymise.risk import RiskReport, join_words, percent, risk_report
from tests.anonymise.generate import pupil_rows


def plain_report(rows: list[dict], quasi, sensitive, k, threshold) -> dict:
    """The figures written out with Counters over tuples, independently of risk.py."""
    groups = Counter(tuple(row[column] for column in quasi) for row in rows)
    values = defaultdict(lambda: defaultdict(set))
    cells = Counter()
    for row in rows:
        group = tuple(row[column] for column in quasi)
        for column in sensitive:
            values[column][group].add(row[column])
            cells[(column, group, row[column])] += 1
    if sensitive:
        small = sum(1 for count in cells.values() if count < threshold)
    else:
        small = sum(1 for count in groups.values() if count < threshold)
    return {
        "rows": len(rows),
        "k": min(groups.values()) if rows else None,
        "groups": len(groups),
        "records_below_k": sum(count for count in groups.values() if count < k),
        "unique_records": sum(1 for count in groups.values() if count == 1),
        "l_diversity": {
            column: min((len(seen) for seen in values[column].values()), default=0)
            for column in sensitive
        },
        "small_cells": small,
    }


def figures(report: RiskReport) -> dict:
    return {
        name: value
        for name, value in report.as_dict().items()
        if name not in {"target_k", "quasi_identifiers", "small_cell_threshold"}
    }


COLUMNS = ("a", "b", "c", "d")
cell = st.sampled_from(["x", "y", "z", None])
tables = st.lists(st.fixed_dictionaries(dict.fromkeys(COLUMNS, cell)), max_size=40)
subsets = st.lists(st.sampled_from(COLUMNS), unique=True, max_size=3)


@settings(max_examples=300, deadline=None)
@given(tables, subsets, subsets, st.integers(1, 6), st.integers(1, 6))
def test_the_figures_match_a_plain_computation(rows, quasi, sensitive, k, threshold):
    frame = pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String))
    report = risk_report(
        frame, quasi=quasi, sensitive=sensitive, k=k, small_cell_threshold=threshold
    )
    assert figures(report) == plain_report(rows, quasi, sensitive, k, threshold)
    assert report.target_k == k
    assert report.quasi_identifiers == tuple(quasi)
    assert all(isinstance(sentence, str) and sentence for sentence in report.in_words())


def test_the_generated_pupils_match_a_plain_computation():
    pupils = pupil_rows(3000, seed=8).with_columns(
        pl.col("Postcode").str.split(" ").list.first(),
        pl.col("Date of birth").str.slice(6, 4),
    )
    quasi = ("Postcode", "Date of birth", "Gender")
    sensitive = ("SEN provision", "NI number")
    report = risk_report(pupils, quasi=quasi, sensitive=sensitive, k=3)
    assert figures(report) == plain_report(pupils.to_dicts(), quasi, sensitive, 3, 10)


def test_blanks_form_their_own_group_and_count_as_a_value():
    frame = pl.DataFrame(
        {"Postcode": ["E8", "E8", None, None, None], "SEN": ["K", None, None, None, "E"]}
    )
    report = risk_report(frame, quasi=["Postcode"], sensitive=["SEN"], k=2)
    assert report.groups == 2
    assert report.k == 2
    assert report.l_diversity == {"SEN": 2}
    assert "In these figures a blank counts as a value of its own." in report.in_words()


def test_with_no_quasi_identifiers_the_whole_file_is_one_group():
    frame = pl.DataFrame({"SEN": ["N"] * 7 + ["K"] * 3})
    report = risk_report(frame, quasi=[], sensitive=["SEN"])
    assert (report.groups, report.k, report.records_below_k) == (1, 10, 0)
    assert report.l_diversity == {"SEN": 2}
    assert report.small_cells == 2  # 7 and 3 people: both below 10
    words = report.in_words()
    assert "the whole file counts as one group of 10 records" in words[0]
    assert "The file has 2 different values of SEN (l = 2)." in words


def test_an_empty_file_has_no_smallest_group():
    frame = pl.DataFrame({"Gender": [], "SEN": []}, schema={"Gender": pl.String, "SEN": pl.String})
    report = risk_report(frame, quasi=["Gender"], sensitive=["SEN"])
    assert report.as_dict()["k"] is None
    assert (report.rows, report.groups, report.records_below_k, report.small_cells) == (0, 0, 0, 0)
    assert report.in_words() == ["The file has no records, so nobody can be recognised from it."]


def test_a_sensitive_column_that_is_also_a_quasi_identifier_is_revealed():
    frame = pl.DataFrame({"Gender": ["F", "F", "M", "M"]})
    report = risk_report(frame, quasi=["Gender"], sensitive=["Gender"], k=2)
    assert report.l_diversity == {"Gender": 1}
    assert report.small_cells == 2


def test_columns_of_any_type_can_be_counted():
    frame = pl.DataFrame({"Age": [11, 11, 12, None], "Score": [1.5, 2.5, 1.5, None]})
    report = risk_report(frame, quasi=["Age"], sensitive=["Score"], k=2)
    assert (report.groups, report.k, report.records_below_k) == (3, 1, 2)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"quasi": ["Postcode", "Shoe size"]}, "no column called 'Shoe size'"),
        ({"quasi": ["Postcode"], "sensitive": ["Diagnosis"]}, "no column called 'Diagnosis'"),
        ({"quasi": ["Postcode"], "k": 0}, "at least 1"),
        ({"quasi": ["Postcode"], "small_cell_threshold": 0}, "at least 1"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(arguments, message):
    frame = pl.DataFrame({"Postcode": ["E8"]})
    with pytest.raises(ValueError, match=message):
        risk_report(frame, **arguments)


def test_the_figures_are_ready_for_json():
    frame = pl.DataFrame({"Postcode": ["E8", "E8", "N1"], "SEN": ["K", "N", "N"]})
    figures = json.loads(
        json.dumps(risk_report(frame, quasi=["Postcode"], sensitive=["SEN"]).as_dict())
    )
    assert figures == {
        "rows": 3,
        "k": 1,
        "groups": 2,
        "records_below_k": 3,
        "target_k": 5,
        "quasi_identifiers": ["Postcode"],
        "l_diversity": {"SEN": 1},
        "small_cells": 3,
        "small_cell_threshold": 10,
        "unique_records": 1,
    }


# --- In words ---------------------------------------------------------------------------


def test_a_unique_person_is_said_to_be_recognisable_with_the_figures():
    # 312 people alone in their group, 688 in groups of 8; SEN the same within each group.
    rows = [{"Postcode": f"E{n}", "Date of birth": "2015", "SEN": "N"} for n in range(312)]
    rows += [
        {"Postcode": "N1", "Date of birth": str(2010 + n % 86), "SEN": "K"} for n in range(688)
    ]
    report = risk_report(pl.DataFrame(rows), quasi=["Postcode", "Date of birth"], sensitive=["SEN"])
    words = report.in_words()
    assert words == [
        "A group is the people who share the same Postcode and Date of birth: someone who knows"
        " these details about a person can narrow them down to their group.",
        "The 1,000 records fall into 398 groups.",
        "The smallest group of people who share the same Postcode and Date of birth has 1"
        " person: they could be recognised.",
        "312 people are alone in their group: each of them could be recognised.",
        "312 of 1,000 records (31%) are in groups smaller than 5.",
        "In at least one group every person has the same SEN, so anyone known to be in that"
        " group has their SEN revealed (l = 1).",
        "In these figures a blank counts as a value of its own.",
        "398 combinations of a group and a value of SEN have fewer than 10 people (small"
        " cells): a published table of counts would have to hide them, because a small count"
        " can point to the people in it.",
    ]


def test_groups_at_least_the_target_are_said_to_single_nobody_out():
    frame = pl.DataFrame({"Gender": ["F"] * 30 + ["M"] * 33, "SEN": ["N", "K", "E"] * 21})
    words = risk_report(frame, quasi=["Gender"], sensitive=["SEN"]).in_words()
    assert (
        "The smallest group of people who share the same Gender has 30 people, at least the 5"
        " aimed for: these details alone do not single anyone out." in words
    )
    assert "No record is in a group smaller than 5." in words
    assert (
        "Every group has at least 3 different values of SEN (l = 3), so knowing which group"
        " someone is in does not tell their SEN for certain." in words
    )
    assert "No combination of a group and a value of SEN has fewer than 10 people" in words[-1]


def test_a_group_smaller_than_the_target_is_said_to_narrow_people_down():
    frame = pl.DataFrame({"Gender": ["F"] * 3 + ["M"] * 30})
    words = risk_report(frame, quasi=["Gender"], k=5).in_words()
    assert (
        "The smallest group of people who share the same Gender has 3 people, fewer than the 5"
        " aimed for: someone who knows these details about a person narrows them down to one"
        " of 3." in words
    )
    assert "3 of 33 records (9%) are in groups smaller than 5." in words
    # The 3 people are the one group below 10.
    assert words[-1].startswith("1 group has fewer than 10 people (small cells)")


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (0, 10, "0%"),
        (1, 1000, "less than 1%"),
        (999, 1000, "more than 99%"),
        (10, 10, "100%"),
        (312, 1000, "31%"),
        (1, 3, "33%"),
    ],
)
def test_percentages_never_round_a_few_away(part, whole, expected):
    assert percent(part, whole) == expected


def test_column_names_are_joined_as_in_a_sentence():
    assert join_words(["Postcode"]) == "Postcode"
    assert join_words(["Postcode", "Gender"]) == "Postcode and Gender"
    assert join_words(["Postcode", "Gender", "Year group"]) == "Postcode, Gender and Year group"
