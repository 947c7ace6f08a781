"""The grounds on which a pupil's name is deleted from the admission register.

The School Attendance (Pupil Registration) (England) Regulations 2024
(SI 2024/208), regulation 9(1). A removal from the roll names one of these in
its notification to the local authority (regulation 13). Codes are stable
identifiers; names are the grounds in plain words. An entry is retired, never
deleted (DESIGN.md rule 6).
"""

from django.db import migrations

GROUNDS = [
    ("9-1-a-another-school", "9(1)(a)", "The pupil has been registered at another school"),
    (
        "9-1-b-nursery-completed",
        "9(1)(b)",
        "The pupil has not continued at the school after completing nursery education",
    ),
    (
        "9-1-c-dual-registration-ended",
        "9(1)(c)",
        "The pupil is also registered at other schools, which have agreed to the deletion",
    ),
    (
        "9-1-d-attendance-order-amended",
        "9(1)(d)",
        "The pupil's school attendance order has been changed to name another school",
    ),
    (
        "9-1-e-attendance-order-revoked",
        "9(1)(e)",
        "The pupil's school attendance order has been revoked",
    ),
    (
        "9-1-f-education-otherwise",
        "9(1)(f)",
        "The parent has told the school in writing that the pupil will be educated "
        "otherwise than at school",
    ),
    (
        "9-1-g-moved-away",
        "9(1)(g)",
        "The pupil no longer ordinarily lives within a reasonable distance of the school",
    ),
    (
        "9-1-h-not-returned-from-leave",
        "9(1)(h)",
        "The pupil has not returned to school after a leave of absence",
    ),
    (
        "9-1-i-continuous-absence",
        "9(1)(i)",
        "The pupil has been continuously absent for at least 20 school days",
    ),
    ("9-1-j-detained", "9(1)(j)", "The pupil is detained under a sentence of detention"),
    ("9-1-k-died", "9(1)(k)", "The pupil has died"),
    (
        "9-1-l-over-compulsory-age",
        "9(1)(l)",
        "The pupil will be over compulsory school age and will not continue at the school",
    ),
    (
        "9-1-m-boarding-fees-unpaid",
        "9(1)(m)",
        "The pupil is a boarder at a maintained school or academy and the boarding fees "
        "have not been paid",
    ),
    (
        "9-1-n-left-independent-school",
        "9(1)(n)",
        "The pupil has stopped being a pupil of an independent or non-maintained special school",
    ),
    ("9-1-o-permanently-excluded", "9(1)(o)", "The pupil has been permanently excluded"),
]


def load(apps, schema_editor):
    ground = apps.get_model("statutory", "RemovalGround")
    for position, (code, regulation, name) in enumerate(GROUNDS):
        ground.objects.update_or_create(
            code=code, defaults={"regulation": regulation, "name": name, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("statutory", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
