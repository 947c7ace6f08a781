"""Synthetic pupil rows for the anonymisation tests and benchmark (no Django, no real people).

`pupil_rows(n, seed=...)` gives the fifteen columns a school's export to
another organisation typically has, every one a String as `read_dataset`
reads them. Identifiers carry valid check digits so the recognisers accept
them; names are drawn from short lists of common names, phone numbers from
Ofcom's ranges reserved for drama, emails at example.org and postcodes of
the right shape, so nothing here is anybody's.

Everything is computed with polars expressions from a hash of the row number
(one stream per column), so a million rows take about a second. The same n
and seed give the same rows with the same polars version (polars does not
promise its hash across versions).
"""

from __future__ import annotations

import random

import polars as pl

from infoshare.core.upn_check import UPN_LETTERS

COLUMNS = (
    "UPN",
    "ULN",
    "Legal forename",
    "Legal surname",
    "Date of birth",
    "Gender",
    "Postcode",
    "Email",
    "Phone",
    "NHS number",
    "NI number",
    "Year group",
    "Ethnicity",
    "SEN provision",
    "Notes",
)

FORENAMES = (
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Muhammad",
    "Freya", "Leo", "Lily", "Harry", "Florence", "Oscar", "Willow", "Archie", "Rosie", "Jack",
    "Sophia", "Henry", "Grace", "Theo", "Evie", "Alfie", "Ella", "Jacob", "Poppy", "Freddie",
    "Aisha", "Zain", "Maya", "Yusuf", "Chloe", "Kai", "Nia", "Tomasz", "Zofia", "Ravi",
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Thomas", "Clarke", "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper",
    "Hill", "Ward", "Hughes", "Moore", "Clark", "Khan", "Begum", "Ahmed", "Nowak", "Okafor",
    "Mensah", "Singh", "Kowalski",
)  # fmt: skip
# Plausible outward areas; districts 1 to 19, so most groups are large.
POSTCODE_AREAS = ("B", "BS", "CF", "E", "L", "LS", "M", "N", "NE", "NG", "S", "SE", "SW", "YO")
# The letters Royal Mail uses in the inward code's last two places.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# Ofcom's numbers for drama: mobile 07700 900xxx, Leeds 0113 496 0xxx, London 020 7946 0xxx.
PHONE_PREFIXES = ("07700 900", "07700900", "+44 7700 900", "0113 496 0", "020 7946 0")
# DfE ethnicity codes, the majority first, repeated roughly in proportion.
ETHNICITIES = (("WBRI",) * 14) + (
    "WIRI", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "AIND", "APKN", "ABAN", "CHNE",
    "BCRB", "BAFR", "BOTH", "AOTH", "OOTH", "REFU", "NOBT",
)  # fmt: skip
# N: no special educational need; K: SEN support; E: an education, health and care plan.
SEN_PROVISION = (("N",) * 85) + (("K",) * 12) + (("E",) * 3)
NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"
NI_PREFIXES = tuple(
    first + second
    for first in NI_FIRST
    for second in NI_SECOND
    if first + second not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
)
NOTES_OPENINGS = (
    " has settled well this term and",
    " found the move from primary school hard and",
    " was absent for two weeks in March and",
    " is making good progress in reading and",
    " had a difficult half term at home and",
    " moved here from another school in Year 4 and",
    " joined the after school club and",
    " is supported by the school nurse and",
)
NOTES_CLOSINGS = (
    " now meets the learning mentor every Tuesday.",
    " the family asked for a meeting with the head of year.",
    " needs extra time in tests, agreed with the SENCo.",
    " walks home with an older sibling on Fridays.",
    " is often late because of the bus from the estate.",
    " has a new social worker since the autumn.",
    " would like to try out for the football team.",
    " attends the breakfast club most mornings.",
)
# The generated pupils are aged 4 to 17 on 31 August 2025: Reception to Year 13.
SCHOOL_YEAR_STARTS = 2025
FIRST_BIRTH = "2007-09-01"
BIRTH_DAYS = 5113  # 2007-09-01 to 2021-08-31 inclusive
# Share of pupils with a note, in hundredths.
NOTES_PERCENT = 25


def pupil_rows(n: int, *, seed: int) -> pl.DataFrame:
    """n synthetic pupils in the fifteen `COLUMNS`, all String; blanks are null."""
    rng = random.Random(seed)
    streams = [rng.randrange(1, 2**62) for _ in range(24)]
    frame = pl.LazyFrame().select(pl.int_range(0, n, dtype=pl.UInt64).alias("i"))
    frame = frame.with_columns(
        [(pl.col("i").hash(s) % 1_000_003).alias(f"r{j}") for j, s in enumerate(streams)]
    )
    frame = frame.with_columns(
        (pl.lit(FIRST_BIRTH).str.to_date() + pl.duration(days=pl.col("r0") % BIRTH_DAYS)).alias(
            "dob"
        ),
    )
    frame = frame.with_columns(
        _pick(FORENAMES, "r1").alias("forename"),
        _pick(SURNAMES, "r2").alias("surname"),
        _year_group().alias("year"),
    )
    return frame.select(
        _upn(rng).alias("UPN"),
        _ten_digit(rng, base=1, span=9, stream="r3", invalid_remainder=0).alias("ULN"),
        pl.col("forename").alias("Legal forename"),
        pl.col("surname").alias("Legal surname"),
        pl.col("dob").dt.strftime("%d/%m/%Y").alias("Date of birth"),
        _pick(("F", "M"), "r4").alias("Gender"),
        _postcode().alias("Postcode"),
        _email().alias("Email"),
        pl.concat_str(_pick(PHONE_PREFIXES, "r9"), _digits("r10", 3)).alias("Phone"),
        _nhs_number(rng).alias("NHS number"),
        _ni_number().alias("NI number"),
        pl.when(pl.col("year") == 0)
        .then(pl.lit("Reception"))
        .otherwise(pl.format("Year {}", pl.col("year")))
        .alias("Year group"),
        _pick(ETHNICITIES, "r12").alias("Ethnicity"),
        _pick(SEN_PROVISION, "r13").alias("SEN provision"),
        _notes().alias("Notes"),
    ).collect()


def _pick(values: tuple[str, ...], stream: str) -> pl.Expr:
    """One of `values` for each row, chosen by a random stream."""
    choices = pl.Series(values, dtype=pl.String)
    return pl.lit(choices).gather(pl.col(stream) % len(values))


def _digits(stream: str, width: int) -> pl.Expr:
    return (pl.col(stream) % 10**width).cast(pl.String).str.zfill(width)


def _year_group() -> pl.Expr:
    """National curriculum year: 0 (Reception) for those 4 on 31 August 2025, up to 13."""
    dob = pl.col("dob")
    born_school_year = pl.when(dob.dt.month() >= 9).then(dob.dt.year()).otherwise(dob.dt.year() - 1)
    return (SCHOOL_YEAR_STARTS - 5 - born_school_year).cast(pl.Int64)


def _permuted(rng: random.Random, modulus: int) -> pl.Expr:
    """A distinct number below `modulus` for each row: i ↦ (a·i + b) mod modulus, a coprime."""
    while True:
        multiplier = rng.randrange(modulus // 3, modulus)
        if _coprime(multiplier, modulus):
            break
    offset = rng.randrange(modulus)
    return ((pl.col("i").cast(pl.Int128) * multiplier + offset) % modulus).cast(pl.Int64)


def _coprime(a: int, b: int) -> bool:
    while b:
        a, b = b, a % b
    return a == 1


def _upn(rng: random.Random) -> pl.Expr:
    """A permanent UPN: check letter, LA number 8xx, then nine distinct digits per pupil."""
    body = 800 * 10**9 + (pl.col("r5") % 100) * 10**9 + _permuted(rng, 10**9)
    letter = pl.lit(pl.Series(list(UPN_LETTERS))).gather(_weighted(body, 12, range(2, 14)) % 23)
    return pl.concat_str(letter, body.cast(pl.String))


def _weighted(number: pl.Expr, width: int, weights: range) -> pl.Expr:
    """The sum of weight * digit over the `width` digits of `number`, read from the left."""
    return pl.sum_horizontal(
        (number // 10 ** (width - 1 - position)) % 10 * weight
        for position, weight in enumerate(weights)
    )


def _ten_digit(
    rng: random.Random, *, base: int, span: int, stream: str, invalid_remainder: int
) -> pl.Expr:
    """Ten digits under the weights 10..2 and modulus 11 shared by ULNs and NHS numbers.

    The first eight digits are distinct per row (base·10⁷ plus a permutation of
    span·10⁷); the ninth is random, moved on by one when it would make the
    remainder the one that has no check digit; the tenth is the check digit.
    For a ULN the check is 10 - remainder (remainder 0 is invalid); for an NHS
    number 11 - remainder, 11 read as 0 (remainder 1 is invalid).
    """
    eight = base * 10**7 + _permuted(rng, span * 10**7)
    ninth = pl.col(stream) % 10
    first = _weighted(eight, 8, range(10, 2, -1))
    ninth = (
        pl.when((first + 2 * ninth) % 11 == invalid_remainder)
        .then((ninth + 1) % 10)
        .otherwise(ninth)
    )
    remainder = (first + 2 * ninth) % 11
    check = 10 - remainder if invalid_remainder == 0 else (11 - remainder) % 11
    return (eight * 100 + ninth * 10 + check).cast(pl.String)


def _nhs_number(rng: random.Random) -> pl.Expr:
    """NHS numbers in England's range, 400 000 000 0 to 499 999 999 9."""
    return _ten_digit(rng, base=4, span=1, stream="r6", invalid_remainder=1)


def _postcode() -> pl.Expr:
    district = (pl.col("r7") % 19 + 1).cast(pl.String)
    inward = pl.concat_str(
        _digits("r8", 1), _pick(tuple(INWARD_LETTERS), "r14"), _pick(tuple(INWARD_LETTERS), "r15")
    )
    return pl.concat_str(_pick(POSTCODE_AREAS, "r16"), district, pl.lit(" "), inward)


def _email() -> pl.Expr:
    return pl.concat_str(
        pl.col("forename").str.to_lowercase(),
        pl.lit("."),
        pl.col("surname").str.to_lowercase(),
        (pl.col("r17") % 100).cast(pl.String),
        pl.lit("@example.org"),
    )


def _ni_number() -> pl.Expr:
    """Only pupils in Years 12 and 13 have one: HMRC sends it near the 16th birthday."""
    number = pl.concat_str(
        _pick(NI_PREFIXES, "r18"), _digits("r19", 6), _pick(("A", "B", "C", "D"), "r20")
    )
    return pl.when(pl.col("year") >= 12).then(number).otherwise(None)


def _notes() -> pl.Expr:
    text = pl.concat_str(
        pl.col("forename"), _pick(NOTES_OPENINGS, "r21"), _pick(NOTES_CLOSINGS, "r22")
    )
    return pl.when(pl.col("r23") % 100 < NOTES_PERCENT).then(text).otherwise(None)
