"""Recognising the identifiers in a pupil dataset and suggesting a plan (issue 8, item 2).

Appendix A step 2 of the information sharing policy: "If your objective can be
met in a privacy friendly way then personal data should not be shared." The
suggestion makes the private path the easy one: every column a person could be
recognised from is pseudonymised, generalised or dropped unless someone
decides otherwise.

A column is judged by its heading AND by a sample of its values. The values
win: a column headed "Ref" whose values pass the NHS number checksum is NHS
numbers, whatever it is called. A heading that promises an identifier the
values do not bear out is still treated as that identifier, with a lower
confidence, because wrongly removing a column costs less than wrongly sharing
it. No Django here (design rule 10).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from infoshare.anonymise.checksums import (
    is_valid_nhs_number,
    is_valid_ni_number,
    is_valid_uln,
    is_valid_upn,
)
from infoshare.anonymise.plan import ColumnStep, Plan

KINDS = frozenset(
    {
        "upn",
        "uln",
        "nhs_number",
        "ni_number",
        "postcode",
        "email",
        "phone",
        "name",
        "date_of_birth",
        "free_text",
        "other",
    }
)
# A column is taken for a kind when at least this share of its sampled values pass.
VALUE_SHARE = 0.8
# Free text and names must also be varied: a column of "Yes"/"No" is neither.
FREE_TEXT_DISTINCT_SHARE = 0.5
NAME_DISTINCT_SHARE = 0.3
NAME_MIN_VALUES = 20
# Pupils, including young people with an EHC plan to 25, are born within these years.
BIRTH_YEARS_BACK = 30
DEFAULT_K = 5

# What each kind is called in a reason, and the heading phrases that announce it.
LABELS = {
    "upn": "UPNs",
    "uln": "ULNs",
    "nhs_number": "NHS numbers",
    "ni_number": "National Insurance numbers",
    "postcode": "postcodes",
    "email": "email addresses",
    "phone": "phone numbers",
    "name": "names",
    "date_of_birth": "dates of birth",
    "free_text": "free text",
}
HEADING_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("upn", ("upn", "unique pupil number")),
    ("uln", ("uln", "unique learner number")),
    ("nhs_number", ("nhs",)),
    ("ni_number", ("ni number", "ni no", "nino", "nin", "national insurance")),
    ("postcode", ("postcode", "post code", "postal code", "zip")),
    ("email", ("email", "e mail")),
    ("phone", ("phone", "telephone", "mobile", "tel", "landline", "contact number")),
    ("date_of_birth", ("dob", "date of birth", "birth date", "birthdate", "birthday", "born")),
    (
        "name",
        (
            "forename",
            "forenames",
            "surname",
            "surnames",
            "firstname",
            "lastname",
            "fullname",
            "givenname",
            "familyname",
            "middlename",
            "middlenames",
            "nickname",
            "first name",
            "last name",
            "given name",
            "family name",
            "middle name",
            "middle names",
            "known as",
        ),
    ),
    (
        "free_text",
        (
            "notes",
            "note",
            "comments",
            "comment",
            "description",
            "details",
            "remarks",
            "observations",
            "narrative",
            "free text",
            "concerns",
            # A street address identifies a household as surely as a name does.
            "address",
            "street",
        ),
    ),
)
# "Name" alone is a person's, unless the heading says whose: "School name" is not.
_NOT_A_PERSON = frozenset(
    {"school", "establishment", "setting", "academy", "trust", "authority", "la", "course"}
    | {"subject", "provider", "file", "document", "class", "team", "house", "company"}
)
# Headings of the columns an outsider may know about a pupil (quasi-identifiers).
QUASI_PHRASES = (
    "gender",
    "sex",
    "ethnicity",
    "ethnic",
    "year group",
    "yeargroup",
    "nc year",
    "ncyear",
    "national curriculum year",
    "first language",
    "home language",
)
QUASI_WHOLE_HEADINGS = frozenset({"year", "yr", "age"})
# Headings of columns whose value must not be revealed for a whole group (sensitive).
SENSITIVE_PHRASES = (
    "sen",
    "send",
    "special educational needs",
    "special needs",
    "ehcp",
    "ehc",
    "health",
    "medical",
    "condition",
    "conditions",
    "disability",
    "disabled",
    "diagnosis",
    "fsm",
    "free school meals",
    "pupil premium",
    "looked after",
    "cla",
    "lac",
    "child in need",
    "cin",
    "child protection",
    "safeguarding",
    "religion",
    "sexual orientation",
    "exclusion",
    "exclusions",
)
# Heading words of dates that are not births (admission, leaving…): dates in them are kept.
_OTHER_DATE_WORDS = frozenset(
    {"date", "start", "started", "admission", "admitted", "entry", "leaving", "left", "end"}
    | {"review", "updated", "created", "joined", "exclusion", "from", "to", "on"}
)

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
# Royal Mail's shapes: A9, A99, AA9, AA99, A9A, AA9A, then the inward 9AA.
_POSTCODE = re.compile(
    r"^(?:GIR ?0AA|[A-PR-UWYZ](?:\d[\dA-HJKPS-UW]?|[A-HK-Y]\d[\dABEHMNPRV-Y]?)"
    r" ?\d[ABD-HJLNP-UW-Z]{2})$"
)
# A UK number: 0 then 9 or 10 digits, or +44 / 0044 (then "(0)", seen without its
# brackets once punctuation is taken out) instead of the 0.
_PHONE = re.compile(r"^(?:(?:\+|00)440?|0)[1-9]\d{8,9}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")
_SLASHED_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NAME = re.compile("^[A-Z][A-Za-z'\u2019-]+(?: [A-Za-z][A-Za-z'\u2019-]+){0,2}$")


@dataclass(frozen=True)
class Finding:
    """What a column seems to hold, why we think so, and how sure we are (0 to 1)."""

    column: str
    kind: str
    reason: str
    confidence: float


def recognise_columns(
    frame: pl.DataFrame, *, sample: int = 1000, today: date | None = None
) -> list[Finding]:
    """One Finding per column, in the frame's order.

    `sample` values (non-blank, chosen at random but repeatably) of each column
    are checked, so a million rows cost no more than a thousand. `today` sets
    the years in which pupils are born (the last 30), for testing.
    """
    today = today or date.today()
    checks = _value_checks(today)
    return [_recognise(name, _sample(frame[name], sample), checks) for name in frame.columns]


def suggest_plan(frame: pl.DataFrame, *, reference_date: date | None = None) -> Plan:
    """A plan that removes or blurs every identifier recognised; everything else is kept.

    Identifiers that link records (UPN, ULN, NHS and NI numbers) become stable
    tokens; contact details, names and free text are dropped; a date of birth
    becomes an age band on `reference_date` (by default the next 1 September,
    the start of a school year); a postcode its outward code ("E8"). Columns
    headed like gender, ethnicity or year group are quasi-identifiers; those
    like SEN, health or free school meals are sensitive.
    """
    reference_date = reference_date or next_first_of_september(date.today())
    findings = recognise_columns(frame, today=reference_date)
    roles = {finding.column: _role(finding) for finding in findings}
    has_year_group = any(
        role == "quasi" and _is_year_group(column) for column, role in roles.items()
    )
    steps = tuple(_step(finding, reference_date, has_year_group) for finding in findings)
    generalised = tuple(step.column for step in steps if step.operation.startswith("generalise_"))
    return Plan(
        steps=steps,
        quasi_identifiers=generalised
        + tuple(column for column, role in roles.items() if role == "quasi"),
        sensitive=tuple(column for column, role in roles.items() if role == "sensitive"),
        k=DEFAULT_K,
        suppress_below_k=False,
    )


def next_first_of_september(today: date) -> date:
    """The start of the school year on or after `today`: age bands count from it."""
    this_year = date(today.year, 9, 1)
    return this_year if this_year >= today else date(today.year + 1, 9, 1)


# --- Headings ---------------------------------------------------------------------------


def _words(heading: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", heading.lower()))


def _says(words: tuple[str, ...], phrase: str) -> bool:
    """Whether the heading's words contain the phrase's words, side by side."""
    wanted = tuple(phrase.split())
    return any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))


def heading_kind(heading: str) -> str | None:
    """The identifier a heading announces, if any."""
    words = _words(heading)
    for kind, phrases in HEADING_PHRASES:
        if any(_says(words, phrase) for phrase in phrases):
            return kind
    if {"name", "names"} & set(words) and not _NOT_A_PERSON & set(words):
        return "name"
    return None


def heading_role(heading: str) -> str | None:
    """ "quasi" or "sensitive" for the headings that say so; None for the rest."""
    words = _words(heading)
    if " ".join(words) in QUASI_WHOLE_HEADINGS or any(_says(words, p) for p in QUASI_PHRASES):
        return "quasi"
    if any(_says(words, phrase) for phrase in SENSITIVE_PHRASES):
        return "sensitive"
    return None


def _is_year_group(heading: str) -> bool:
    words = _words(heading)
    return "year" in words or "yr" in words or "yeargroup" in words or "ncyear" in words


# --- Values -----------------------------------------------------------------------------

Check = tuple[str, Callable[[str], bool], str]


def _value_checks(today: date) -> tuple[Check, ...]:
    """(kind, test of one value, what passing values are) in order of precedence."""
    first_year = today.year - BIRTH_YEARS_BACK

    def is_birth_date(value: str) -> bool:
        parsed = parse_date(value)
        return parsed is not None and first_year <= parsed.year <= today.year

    return (
        ("upn", is_valid_upn, "valid UPNs (the right shape and check letter)"),
        ("nhs_number", is_valid_nhs_number, "valid NHS numbers (the checksum matches)"),
        ("uln", is_valid_uln, "valid ULNs (the check digit matches)"),
        ("ni_number", is_valid_ni_number, "National Insurance numbers"),
        ("email", lambda value: bool(_EMAIL.match(value)), "email addresses"),
        ("postcode", lambda value: bool(_POSTCODE.match(value.upper())), "UK postcodes"),
        (
            "date_of_birth",
            is_birth_date,
            f"dates in the years pupils are born ({first_year} to {today.year})",
        ),
        ("phone", is_uk_phone, "UK phone numbers"),
        ("free_text", _is_prose, "sentences of text, mostly different from each other"),
    )


def parse_date(value: str) -> date | None:
    """A date written dd/mm/yyyy or yyyy-mm-dd, as the engine's date operation reads it."""
    if match := _SLASHED_DATE.match(value):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.match(value):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def is_uk_phone(value: str) -> bool:
    return bool(_PHONE.match(_PHONE_PUNCTUATION.sub("", value)))


def _is_prose(value: str) -> bool:
    return len(value) >= 20 and value.count(" ") >= 3


def _sample(column: pl.Series, size: int) -> list[str]:
    """Up to `size` non-blank values as trimmed text, the same ones each time.

    Sampled before trimming, so a million rows cost no more than a few
    thousand; twice the size is drawn so blanks do not leave the sample short.
    """
    values = column.drop_nulls()
    if len(values) > 2 * size:
        values = values.sample(2 * size, seed=0)
    values = values.cast(pl.String).str.strip_chars()
    return values.filter(values != "").head(size).to_list()


# --- Putting heading and values together ------------------------------------------------


def _recognise(column: str, values: list[str], checks: tuple[Check, ...]) -> Finding:
    said = heading_kind(column)
    found = _best_check(values, checks)
    if found is not None:
        return _from_values(column, said, found)
    if said is not None:
        return _heading_only(column, said, values, checks)
    if heading_role(column) is None and _looks_like_names(values):
        evidence = _sentence(f"{_share(_count(values, _is_name), len(values))} look like names.")
        return Finding(column, "name", evidence, 0.6)
    return _other(column, "Nothing in the heading or the values looks like an identifier.")


def _from_values(column: str, said: str | None, found: tuple[str, int, int, str]) -> Finding:
    """The values bear out a kind: it wins over whatever the heading says."""
    kind, passed, checked, label = found
    evidence = f"{_share(passed, checked)} are {label}."
    if said == kind:
        return Finding(column, kind, f"The heading says so, and {evidence}", 0.99)
    if said is None and kind == "date_of_birth" and _OTHER_DATE_WORDS & set(_words(column)):
        return _other(column, f"{_sentence(evidence)} The heading names another date: kept.")
    if said is not None:
        return Finding(column, kind, f"The heading suggests {LABELS[said]}, but {evidence}", 0.9)
    return Finding(column, kind, _sentence(evidence), 0.9)


def _best_check(values: list[str], checks: tuple[Check, ...]) -> tuple[str, int, int, str] | None:
    """The first kind (in order of precedence) that enough of the values pass."""
    if not values:
        return None
    best: tuple[str, int, int, str] | None = None
    for kind, test, label in checks:
        passed = _count(values, test)
        if passed / len(values) < VALUE_SHARE:
            continue
        if kind == "free_text" and len(set(values)) / len(values) < FREE_TEXT_DISTINCT_SHARE:
            continue
        if best is None or passed > best[1]:
            best = (kind, passed, len(values), label)
    return best


def _heading_only(column: str, said: str, values: list[str], checks: tuple[Check, ...]) -> Finding:
    """The heading names an identifier the values do not bear out (or cannot be checked)."""
    label = LABELS[said]
    if not values:
        return Finding(column, said, f"The heading says {label}; the column is empty.", 0.6)
    check = next((c for c in checks if c[0] == said), None)
    if check is None or said == "free_text":
        return Finding(column, said, f"The heading suggests {label}.", 0.8)
    passed = _count(values, check[1])
    return Finding(
        column,
        said,
        f"The heading says {label}, though only {_share(passed, len(values))} are "
        f"{check[2]}; treated as {label} to be safe.",
        0.5,
    )


def _other(column: str, reason: str) -> Finding:
    role = heading_role(column)
    if role == "quasi":
        reason += (
            " Kept, and counted as a quasi-identifier: something an outsider may know about"
            " a pupil and use, with other columns, to pick them out."
        )
    elif role == "sensitive":
        reason += (
            " Kept as a sensitive column: the report checks that nobody's value of it can be"
            " told from the group they are in."
        )
    return Finding(column, "other", reason.strip(), 0.5)


def _looks_like_names(values: list[str]) -> bool:
    if len(values) < NAME_MIN_VALUES:
        return False
    varied = len(set(values)) / len(values) >= NAME_DISTINCT_SHARE
    return varied and _count(values, _is_name) / len(values) >= VALUE_SHARE


def _is_name(value: str) -> bool:
    return bool(_NAME.match(value))


def _count(values: list[str], test: Callable[[str], bool]) -> int:
    return sum(1 for value in values if test(value))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _share(passed: int, checked: int) -> str:
    """ "9 in 10 values checked (912 of 1,000)", or "all 40 values checked"."""
    if passed == checked:
        return "the one value checked" if checked == 1 else f"all {checked:,} values checked"
    return f"{passed * 10 // checked} in 10 values checked ({passed:,} of {checked:,})"


# --- The plan ---------------------------------------------------------------------------

_OPERATIONS = {
    "upn": "pseudonymise",
    "uln": "pseudonymise",
    "nhs_number": "pseudonymise",
    "ni_number": "pseudonymise",
    "email": "drop",
    "phone": "drop",
    "name": "drop",
    "free_text": "drop",
    "date_of_birth": "generalise_date",
    "postcode": "generalise_postcode",
    "other": "keep",
}


def _role(finding: Finding) -> str | None:
    return heading_role(finding.column) if finding.kind == "other" else None


def _step(finding: Finding, reference_date: date, has_year_group: bool) -> ColumnStep:
    operation = _OPERATIONS[finding.kind]
    options: dict[str, object] = {}
    if operation == "generalise_date":
        # Age on 1 September is the school year. When a year group is shared
        # anyway, a one-year band tells the recipient nothing more; otherwise
        # five-year bands (4-8, 9-13, 14-18) keep groups large.
        options = {
            "to": "age_band",
            "reference_date": reference_date.isoformat(),
            "width": 1 if has_year_group else 5,
        }
    elif operation == "generalise_postcode":
        options = {"to": "outward"}
    return ColumnStep(column=finding.column, operation=operation, options=options)
