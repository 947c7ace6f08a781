"""How easily a person could be recognised in a dataset (issue 8, item 4).

Appendix A step 2 of the information sharing policy asks whether the purpose
can be met in a privacy friendly way; a DPO deciding that needs the risk in
figures and in words, before and after anonymising.

Quasi-identifiers are the columns someone may already know about a person
(postcode, date of birth, gender…). Records that share every one of them form
a group; someone who knows those details about a pupil can narrow them down
to their group and no further.

- k-anonymity: the size of the smallest group (k = 1: someone is unique), and
  how many records are in groups smaller than the target k.
- l-diversity, per sensitive column: the fewest different values of it in any
  group. l = 1 means some group all share one value, so knowing a person is
  in the group reveals it. A blank (null) counts as a value of its own.
- Small cells: how many combinations of a group and a value of a sensitive
  column occur for fewer than `small_cell_threshold` people (1 to threshold - 1;
  combinations that never occur are not counted). These are the cells a table
  of counts would have to suppress. With no sensitive column: the groups
  themselves smaller than the threshold.

With no quasi-identifiers the whole file is one group. Nulls in a
quasi-identifier form their own value. Everything is one or two polars
group-bys, so a million rows take well under a second. No Django (rule 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

DEFAULT_K = 5
DEFAULT_SMALL_CELL_THRESHOLD = 10
# Names of working columns: a NUL cannot appear in a heading read from a file.
_SIZE = "\x00size"
_KEY_SEEDS = (0x5EED_0001, 0x5EED_0002)


@dataclass(frozen=True)
class RiskReport:
    rows: int
    k: int | None  # the smallest group's size; None when there are no rows
    groups: int
    records_below_k: int
    target_k: int
    quasi_identifiers: tuple[str, ...]
    l_diversity: dict[str, int]  # sensitive column -> fewest distinct values in a group
    small_cells: int
    small_cell_threshold: int
    unique_records: int = 0  # records alone in their group (k = 1 for them)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        figures = asdict(self)
        figures["quasi_identifiers"] = list(self.quasi_identifiers)
        figures["l_diversity"] = dict(self.l_diversity)
        return figures

    def in_words(self) -> list[str]:
        """The figures as sentences a DPO can read without knowing the terms."""
        if self.rows == 0:
            return ["The file has no records, so nobody can be recognised from it."]
        sentences = self._groups_in_words()
        sentences += [self._l_in_words(column, low) for column, low in self.l_diversity.items()]
        if self.l_diversity:
            sentences.append("In these figures a blank counts as a value of its own.")
        sentences.append(self._small_cells_in_words())
        return sentences

    def _groups_in_words(self) -> list[str]:
        details = join_words(self.quasi_identifiers)
        if not self.quasi_identifiers:
            return [
                "No columns were chosen as quasi-identifiers (details such as a postcode or a"
                " date of birth that someone may already know about a person), so the whole"
                f" file counts as one group of {_records(self.rows)}."
            ]
        sentences = [
            f"A group is the people who share the same {details}: someone who knows these"
            " details about a person can narrow them down to their group.",
            f"The {_records(self.rows)} fall into {_count(self.groups, 'group', 'groups')}.",
            self._smallest_group_in_words(details),
        ]
        if self.unique_records > 1:
            sentences.append(
                f"{self.unique_records:,} people are alone in their group: each of them could"
                " be recognised."
            )
        sentences.append(self._below_k_in_words())
        return sentences

    def _smallest_group_in_words(self, details: str) -> str:
        k = self.k or 0
        opening = f"The smallest group of people who share the same {details} has {_people(k)}"
        if k == 1:
            return f"{opening}: they could be recognised."
        if k < self.target_k:
            return (
                f"{opening}, fewer than the {self.target_k} aimed for: someone who knows these"
                f" details about a person narrows them down to one of {k}."
            )
        return (
            f"{opening}, at least the {self.target_k} aimed for: these details alone do not"
            " single anyone out."
        )

    def _below_k_in_words(self) -> str:
        if self.records_below_k == 0:
            return f"No record is in a group smaller than {self.target_k}."
        return (
            f"{self.records_below_k:,} of {_records(self.rows)}"
            f" ({percent(self.records_below_k, self.rows)}) are in groups smaller than"
            f" {self.target_k}."
        )

    def _l_in_words(self, column: str, low: int) -> str:
        """The l-diversity of one sensitive column: `low` is its fewest values in a group."""
        if not self.quasi_identifiers:
            if low == 1:
                return (
                    f"Every record has the same {column}, so it is known for everyone in the"
                    " file (l = 1)."
                )
            return f"The file has {low} different values of {column} (l = {low})."
        if low == 1:
            return (
                f"In at least one group every person has the same {column}, so anyone known"
                f" to be in that group has their {column} revealed (l = 1)."
            )
        return (
            f"Every group has at least {low} different values of {column} (l = {low}), so"
            f" knowing which group someone is in does not tell their {column} for certain."
        )

    def _small_cells_in_words(self) -> str:
        threshold, count = self.small_cell_threshold, self.small_cells
        if self.l_diversity:
            one, many = "combination", "combinations"
            of = " of a group and a value of " + " or ".join(self.l_diversity)
        else:
            one, many, of = "group", "groups", ""
        if count == 0:
            return f"No {one}{of} has fewer than {threshold} people (no small cells)."
        subject = f"1 {one}{of} has" if count == 1 else f"{count:,} {many}{of} have"
        return (
            f"{subject} fewer than {threshold} people (small cells): a published table of"
            " counts would have to hide them, because a small count can point to the people"
            " in it."
        )


def risk_report(
    frame: pl.DataFrame,
    *,
    quasi: Sequence[str],
    sensitive: Sequence[str] = (),
    k: int = DEFAULT_K,
    small_cell_threshold: int = DEFAULT_SMALL_CELL_THRESHOLD,
) -> RiskReport:
    """The k-anonymity, l-diversity and small cells of `frame` over the chosen columns.

    ValueError, naming the column, for a column that is not in the frame, or
    for a k or threshold below 1.
    """
    quasi = tuple(dict.fromkeys(quasi))
    sensitive = tuple(dict.fromkeys(sensitive))
    _check_arguments(frame, quasi + sensitive, k, small_cell_threshold)
    if frame.height == 0:
        return RiskReport(
            rows=0,
            k=None,
            groups=0,
            records_below_k=0,
            target_k=k,
            quasi_identifiers=quasi,
            l_diversity=dict.fromkeys(sensitive, 0),
            small_cells=0,
            small_cell_threshold=small_cell_threshold,
        )
    groups, *cells = pl.collect_all(
        [_group_figures(frame.lazy(), quasi, sensitive, k, small_cell_threshold)]
        + [_small_cells(frame.lazy(), quasi, column, small_cell_threshold) for column in sensitive]
    )
    figures = groups.row(0, named=True)
    small_cells = sum(int(cell.item()) for cell in cells) if sensitive else figures["small"]
    return RiskReport(
        rows=frame.height,
        k=int(figures["k"]),
        groups=int(figures["groups"]),
        records_below_k=int(figures["below"]),
        target_k=k,
        quasi_identifiers=quasi,
        l_diversity={column: int(figures[f"l{i}"]) for i, column in enumerate(sensitive)},
        small_cells=int(small_cells),
        small_cell_threshold=small_cell_threshold,
        unique_records=int(figures["unique"]),
    )


def _check_arguments(
    frame: pl.DataFrame, columns: Sequence[str], k: int, small_cell_threshold: int
) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"There is no column called {missing[0]!r} in the data. Its columns are: "
            + ", ".join(frame.columns)
            + "."
        )
    if k < 1:
        raise ValueError(f"k must be a whole number of at least 1, not {k}.")
    if small_cell_threshold < 1:
        raise ValueError(
            f"The small cell threshold must be at least 1, not {small_cell_threshold}."
        )


def _group_keys(columns: Sequence[str]) -> list[pl.Expr]:
    """Two independent 64-bit hashes of the columns' values, standing for the group.

    Grouping by one number is several times faster than by several text
    columns. With two hashes, two different groups share both with a
    probability of about G^2 / 2^129 (G groups): below 1 in 10^26 for a
    million groups, so the figures are exact in practice.
    """
    values = pl.struct(*columns)
    return [values.hash(seed).alias(f"\x00key{seed}") for seed in _KEY_SEEDS]


def _group_figures(
    lazy: pl.LazyFrame,
    quasi: tuple[str, ...],
    sensitive: tuple[str, ...],
    k: int,
    small_cell_threshold: int,
) -> pl.LazyFrame:
    """One row: groups, k, records below k, unique records, small groups, l per column."""
    per_group = [pl.len().alias(_SIZE)] + [
        pl.col(column).n_unique().alias(f"\x00l{i}") for i, column in enumerate(sensitive)
    ]
    grouped = lazy.group_by(_group_keys(quasi)).agg(per_group) if quasi else lazy.select(per_group)
    size = pl.col(_SIZE)
    return grouped.select(
        pl.len().alias("groups"),
        size.min().alias("k"),
        size.filter(size < k).sum().alias("below"),
        size.filter(size == 1).sum().alias("unique"),
        (size < small_cell_threshold).sum().alias("small"),
        *[pl.col(f"\x00l{i}").min().alias(f"l{i}") for i in range(len(sensitive))],
    )


def _small_cells(
    lazy: pl.LazyFrame, quasi: tuple[str, ...], column: str, small_cell_threshold: int
) -> pl.LazyFrame:
    """How many (group, value of `column`) combinations occur fewer than threshold times."""
    keys = quasi if column in quasi else (*quasi, column)
    return (
        lazy.group_by(_group_keys(keys))
        .agg(pl.len().alias(_SIZE))
        .select((pl.col(_SIZE) < small_cell_threshold).sum())
    )


def join_words(names: Sequence[str]) -> str:
    """ "Postcode", "Postcode and Gender", "Postcode, Gender and Year group"."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def percent(part: int, whole: int) -> str:
    """A share as a rounded percentage that never rounds a few to 0% or nearly all to 100%."""
    share = 100 * part / whole
    if 0 < share < 1:
        return "less than 1%"
    if 99 < share < 100:
        return "more than 99%"
    return f"{round(share)}%"


def _count(number: int, one: str, many: str) -> str:
    return f"1 {one}" if number == 1 else f"{number:,} {many}"


def _people(number: int) -> str:
    return _count(number, "person", "people")


def _records(number: int) -> str:
    return _count(number, "record", "records")
