"""The reference lists every record uses (DESIGN.md rule 6), from the policies and the law.

Codes are stable identifiers used by the program; names are what people read.
Changing a name later is a new migration; an entry is retired, never deleted.
"""

from django.db import migrations

PURPOSES = [
    # Policy 5.1: statutory sharing.
    (
        "statutory-pupil-information",
        "Meet the legal duty to share pupil information with the local authority and the DfE",
        "5.1",
        True,
    ),
    ("admissions", "Make arrangements for school admissions applications", "5.1", True),
    (
        "send-provision",
        "Support and ensure appropriate provision for pupils with SEND",
        "5.1",
        True,
    ),
    (
        "roll-change",
        "Notify the local authority that a pupil joins or leaves the roll",
        "5.1",
        True,
    ),
    # Policy 6.1: sharing with other organisations.
    ("pupil-progress", "Monitor and report on pupil progress", "6.1", False),
    ("pastoral-care", "Provide appropriate pastoral care", "6.1", False),
    (
        "safety-and-protection",
        "Ensure the safety of pupils and protect children from harm",
        "6.1",
        False,
    ),
    (
        "family-news",
        "Notify families of news and important information about the school",
        "6.1",
        False,
    ),
    ("integrated-health", "Support integrated health services", "6.1", False),
    (
        "commissioning",
        "Facilitate commissioning of services to support pupil learning",
        "6.1",
        False,
    ),
    ("court-order", "Comply with a court order", "6.1", False),
    ("crime-prevention", "Prevent crime or disorder", "6.1", False),
    ("complaints-and-claims", "Investigate complaints or potential legal claims", "6.1", False),
    ("medical-and-insurance", "Comply with medical reports or insurance requests", "6.1", False),
    (
        "research",
        "Provide data for medical, health or social care research (with ethical approval)",
        "6.1",
        False,
    ),
]

FORMS_OF_SHARING = [
    ("reciprocal-exchange", "A reciprocal exchange of data"),
    ("provided-to-third-party", "One or more organisations providing data to a third party"),
    (
        "pooled-shared",
        "Several organisations pooling information and making it available to each other",
    ),
    ("pooled-to-third-party", "Several organisations pooling information for a third party"),
    (
        "within-organisation",
        "Different parts of an organisation making data available to each other",
    ),
    (
        "one-off-or-emergency",
        "An exceptional, one-off disclosure in an unexpected or emergency situation",
    ),
]

LAWFUL_BASES = [
    (
        "consent",
        "6(1)(a)",
        "Consent",
        "The person has given clear consent for this specific purpose.",
    ),
    (
        "contract",
        "6(1)(b)",
        "Contract",
        "Necessary for a contract with the person, or to take steps they asked for before one.",
    ),
    (
        "legal-obligation",
        "6(1)(c)",
        "Legal obligation",
        "Necessary to comply with the law (not a contract).",
    ),
    ("vital-interests", "6(1)(d)", "Vital interests", "Necessary to protect someone's life."),
    (
        "public-task",
        "6(1)(e)",
        "Public task",
        "Necessary to perform a task in the public interest or an official function with a clear basis in law.",
    ),
    (
        "legitimate-interests",
        "6(1)(f)",
        "Legitimate interests",
        "Necessary for legitimate interests, unless the person's interests override them. Not available to a public authority performing its tasks.",
    ),
]

ARTICLE_9 = [
    ("art9-a-explicit-consent", "9(2)(a)", "Explicit consent"),
    ("art9-b-employment", "9(2)(b)", "Employment, social security and social protection law"),
    ("art9-c-vital-interests", "9(2)(c)", "Vital interests of a person who cannot consent"),
    ("art9-d-not-for-profit", "9(2)(d)", "Not-for-profit body's legitimate activities"),
    ("art9-e-made-public", "9(2)(e)", "Made manifestly public by the person"),
    ("art9-f-legal-claims", "9(2)(f)", "Legal claims or judicial acts"),
    (
        "art9-g-substantial-public-interest",
        "9(2)(g)",
        "Substantial public interest (with a Schedule 1 condition)",
    ),
    ("art9-h-health-social-care", "9(2)(h)", "Health or social care"),
    ("art9-i-public-health", "9(2)(i)", "Public health"),
    ("art9-j-archiving-research", "9(2)(j)", "Archiving, research and statistics"),
]

SCHEDULE_1 = [
    ("sch1-1-employment", "Sch. 1 para 1", "Employment, social security and social protection"),
    ("sch1-2-health-social-care", "Sch. 1 para 2", "Health or social care purposes"),
    ("sch1-3-public-health", "Sch. 1 para 3", "Public health"),
    ("sch1-4-research", "Sch. 1 para 4", "Research"),
    ("sch1-6-statutory-government", "Sch. 1 para 6", "Statutory and government purposes"),
    ("sch1-7-justice", "Sch. 1 para 7", "Administration of justice"),
    ("sch1-8-equality", "Sch. 1 para 8", "Equality of opportunity or treatment"),
    ("sch1-10-unlawful-acts", "Sch. 1 para 10", "Preventing or detecting unlawful acts"),
    (
        "sch1-16-disability-support",
        "Sch. 1 para 16",
        "Support for individuals with a particular disability or medical condition",
    ),
    ("sch1-17-counselling", "Sch. 1 para 17", "Counselling"),
    (
        "sch1-18-safeguarding",
        "Sch. 1 para 18",
        "Safeguarding of children and of individuals at risk",
    ),
    (
        "sch1-19-economic-wellbeing",
        "Sch. 1 para 19",
        "Safeguarding of economic well-being of certain individuals",
    ),
]

DATA_CATEGORIES = [
    ("identity-contact", "Identifying and contact details", False),
    ("education", "Education and attainment", False),
    ("attendance", "Attendance", False),
    ("behaviour", "Behaviour and exclusions", False),
    ("send", "Special educational needs and disability (SEND)", True),
    ("health", "Health, including medical conditions", True),
    ("safeguarding", "Safeguarding and social care", True),
    ("ethnicity", "Ethnicity", True),
    ("religion", "Religion or belief", True),
    ("biometric", "Biometric (for example, fingerprints for cashless catering)", True),
    ("other", "Other", False),
]

SPECIAL_NOTES = {
    "send": "Treated as special category: SEND information usually reveals health.",
    "safeguarding": "Treated as special category: it usually reveals health, family life or "
    "offences. DPA 2018 Schedule 1 paragraph 18 allows sharing without consent to keep a "
    "child safe.",
}


def load(apps, schema_editor):
    model = apps.get_model
    for position, (code, name, clause, statutory) in enumerate(PURPOSES):
        model("core", "Purpose").objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "clause": clause,
                "is_statutory": statutory,
                "position": position,
            },
        )
    model("core", "Purpose").objects.update_or_create(
        code="other",
        defaults={
            "name": "Other (describe the purpose)",
            "needs_description": True,
            "position": 99,
        },
    )
    for position, (code, name) in enumerate(FORMS_OF_SHARING):
        model("core", "FormOfSharing").objects.update_or_create(
            code=code, defaults={"name": name, "position": position}
        )
    for position, (code, article, name, description) in enumerate(LAWFUL_BASES):
        model("core", "LawfulBasis").objects.update_or_create(
            code=code,
            defaults={
                "article": article,
                "name": name,
                "description": description,
                "position": position,
            },
        )
    conditions = [("article_9", *row) for row in ARTICLE_9] + [
        ("schedule_1", *row) for row in SCHEDULE_1
    ]
    for position, (source, code, article, name) in enumerate(conditions):
        model("core", "SpecialCategoryCondition").objects.update_or_create(
            code=code,
            defaults={"source": source, "article": article, "name": name, "position": position},
        )
    for position, (code, name, special) in enumerate(DATA_CATEGORIES):
        model("core", "DataCategory").objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "is_special": special,
                "description": SPECIAL_NOTES.get(code, ""),
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0002_people_and_reference_lists")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
