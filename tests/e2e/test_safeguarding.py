"""The safeguarding protocol in the browser, as issue 6 walks it.

The DSL shares what a pupil disclosed with their class teacher, signing with
the code from their authenticator app (after first sending the form empty,
which shows its errors); the teacher signs in, finds it under "Shared with
you", acknowledges it with their password and asks to share it with the
school nurse; the deputy DSL permits it, signing again, and the nurse finds a
new record of their own. A headteacher who types the record's address gets
"Page not found". axe-core runs on every page on the way, and the browser
logs no error but those two 404 responses.

A code is good once only, and allauth remembers used ones in the cache, which
the live server shares with this process: it is emptied before each signing,
so that a signing within the 30 seconds of the signing-in code is not refused
it (rather than waiting for the next code each time).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache
from django.urls import reverse
from playwright.sync_api import Page, expect

from infoshare.core.models import Membership, Role, User
from infoshare.safeguarding.models import (
    DSL_DECLARATION,
    RECIPIENT_DECLARATION,
    ReshareRequest,
    Share,
    Status,
)
from tests.conftest import PASSWORD, add_membership, make_user
from tests.e2e.conftest import assert_accessible, sign_in
from tests.safeguarding.support import current_code, make_pupil

if TYPE_CHECKING:
    from tests.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REFERENCE = re.compile(r"SG-\d{4}-\d{4}")
DESCRIPTION = "Ellis told the teacher about bruising at home; referral made to children's services"
CUT_DOWN = "Ellis may need first aid checks for bruising; ask the DSL before acting"
TEACHER, NURSE = "Sam Reed", "Nia Patel"
TOTP_STEP = 30
SECONDS_TO_SUBMIT = 3
SECONDS_TO_SIGN_IN = 8


def people(world: World) -> tuple[User, User, User, User]:
    """The DSL, a class teacher, the deputy DSL and the school nurse (enrolled as staff)."""
    organisation = world.school.organisation
    teacher = world.school["staff"]
    User.objects.filter(pk=teacher.pk).update(name=TEACHER)
    Membership.objects.filter(user=teacher, organisation=organisation).update(
        job_title="Class teacher"
    )
    nurse = make_user("nurse@alder.test", NURSE)
    add_membership(nurse, organisation, Role.STAFF)
    Membership.objects.filter(user=nurse, organisation=organisation).update(
        job_title="School nurse"
    )
    teacher.refresh_from_db()
    return world.school["dsl"], teacher, world.school["deputy_dsl"], nurse


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=name).click()


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def wait_for_a_fresh_code(margin: float) -> None:
    """A code is good for its own 30 seconds only: near their end, wait for the next code."""
    if (left := TOTP_STEP - time.time() % TOTP_STEP) < margin:
        time.sleep(left)


def sign_in_as(page: Page, base_url: str, user: User) -> None:
    """`sign_in`, started early enough in a code's 30 seconds to send the code within them."""
    wait_for_a_fresh_code(SECONDS_TO_SIGN_IN)
    sign_in(page, base_url, user, PASSWORD)


def sign_with_code(page: Page, user: User) -> None:
    page.get_by_label("I make this declaration").check()
    cache.clear()  # forget the code used to sign in, should this one be the same
    wait_for_a_fresh_code(SECONDS_TO_SUBMIT)
    page.get_by_label("Code from your authenticator app").fill(current_code(user))


def visit(page: Page, link: str | re.Pattern[str], title: str | re.Pattern[str]) -> None:
    """Follow a link of the page to the page titled `title`, and check that page."""
    page.get_by_role("link", name=link, exact=isinstance(link, str)).first.click()
    expect(heading(page)).to_have_text(title)
    assert_accessible(page)


def the_record(reference: str) -> re.Pattern[str]:
    return re.compile(f"^Safeguarding record {reference}$")


# --- The walk ----------------------------------------------------------------------------


def dsl_shares_with_the_teacher(page: Page, base_url: str, dsl: User) -> str:
    sign_in_as(page, base_url, dsl)
    menu(page, "Safeguarding")
    expect(heading(page)).to_have_text("Safeguarding")
    assert_accessible(page)
    page.get_by_role("button", name="Share information").click()
    expect(heading(page)).to_have_text("Share safeguarding information")
    assert_accessible(page)

    # Sent empty, the form says what is missing, signing included.
    page.get_by_label("Your name, as you sign").fill("")
    page.get_by_role("button", name="Sign and share").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#id_pupil_error")).to_contain_text("Choose the pupil")
    expect(page.locator("#id_recipient_error")).to_contain_text("Choose the member of staff")
    expect(page.locator("#id_secret_error")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Pupil", exact=True).select_option(label="Marsh, Ellis")
    page.get_by_label("Child protection file").check()
    page.get_by_label("Reference of the child's file").fill("CP-0193")
    page.get_by_label("Description of the information being shared").fill(DESCRIPTION)
    page.get_by_label("Who are you sharing it with?").select_option(
        label=f"{TEACHER} (Class teacher)"
    )
    expect(page.locator("#declaration")).to_have_text(DSL_DECLARATION)
    page.get_by_label("Your name, as you sign").fill(dsl.name)
    sign_with_code(page, dsl)
    page.get_by_role("button", name="Sign and share").click()

    expect(heading(page)).to_have_text(re.compile(r"^Safeguarding record SG-\d{4}-\d{4}$"))
    expect(page.locator("#status")).to_have_text("Awaiting acknowledgement")
    assert_accessible(page)
    reference = REFERENCE.search(heading(page).inner_text())
    assert reference is not None
    return reference.group()


def dsl_looks_at_the_lists(page: Page, reference: str) -> None:
    menu(page, "Safeguarding")
    expect(page.locator("#outstanding")).to_contain_text(reference)
    expect(page.locator("#outstanding")).to_contain_text(TEACHER)
    visit(page, re.compile("^All records"), "Safeguarding records")
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()
    menu(page, "Safeguarding")
    visit(page, "Records by pupil", "Records by pupil")
    visit(page, "Marsh, Ellis", "Safeguarding records")  # the list, for that pupil
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()
    menu(page, "Safeguarding")
    visit(page, "Records by the person they were shared with", "Records by recipient")
    expect(page.get_by_role("link", name=TEACHER)).to_be_visible()


def teacher_acknowledges_and_asks_to_share(
    page: Page, base_url: str, teacher: User, reference: str
) -> None:
    sign_in_as(page, base_url, teacher)
    menu(page, "Safeguarding")
    expect(heading(page)).to_have_text("Shared with you")
    expect(page.locator("#shared-with-you")).to_contain_text("Awaiting acknowledgement")
    assert_accessible(page)
    visit(page, reference, the_record(reference))
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()

    visit(page, "Acknowledge", "Acknowledge the information shared with you")
    expect(page.locator("#declaration")).to_have_text(RECIPIENT_DECLARATION)
    page.get_by_label("I make this declaration").check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and acknowledge").click()
    expect(heading(page)).to_have_text(the_record(reference))
    expect(page.locator("#status")).to_have_text("Acknowledged")
    assert_accessible(page)

    visit(page, "Ask to share it further", "Ask to share this information further")
    page.get_by_label("Another member of staff").check()
    page.get_by_label("Member of staff", exact=True).select_option(label=f"{NURSE} (School nurse)")
    page.get_by_label("Why does it need to be shared further?").fill(
        "The nurse sees Ellis for first aid and should know to look for bruising."
    )
    page.get_by_role("button", name="Send the request").click()
    expect(heading(page)).to_have_text("Request to share further")
    expect(page.locator("#request")).to_contain_text("Awaiting a DSL's answer")
    expect(page.locator("#request")).to_contain_text(NURSE)
    assert_accessible(page)
    sign_out(page)


def deputy_permits_it(page: Page, base_url: str, deputy: User, reference: str) -> str:
    sign_in_as(page, base_url, deputy)
    menu(page, "Safeguarding")
    assert_accessible(page)
    visit(page, re.compile("^Requests to share further"), "Requests to share further")
    expect(page.locator("#requests")).to_contain_text(NURSE)
    visit(page, f"Answer the request about {reference}", "Request to share further")
    visit(page, "Permit", f"Permit sharing with {NURSE}")
    page.get_by_label("Why may it be shared further?").fill(
        "The nurse needs to know what to look for, and no more."
    )
    description = page.get_by_label("Description of the information being shared")
    expect(description).to_have_value(DESCRIPTION)
    description.fill(CUT_DOWN)
    page.get_by_label("Your name, as you sign").fill(deputy.name)
    sign_with_code(page, deputy)
    page.get_by_role("button", name="Sign and permit").click()

    expect(heading(page)).to_have_text(re.compile(r"^Safeguarding record SG-\d{4}-\d{4}$"))
    expect(page.locator("#status")).to_have_text("Awaiting acknowledgement")
    expect(page.locator("#shared-further-from")).to_contain_text(reference)
    assert_accessible(page)
    new_reference = REFERENCE.search(heading(page).inner_text())
    assert new_reference is not None
    assert new_reference.group() != reference
    return new_reference.group()


def deputy_opens_the_withdraw_page(page: Page, reference: str) -> None:
    """Opened and sent without a reason: it asks for one, and the record stays as it is."""
    page.get_by_role("link", name=reference, exact=True).click()
    expect(heading(page)).to_have_text(the_record(reference))
    visit(page, "Withdraw", "Withdraw this record")
    page.get_by_role("button", name="Withdraw the record").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#id_reason_error")).to_be_visible()
    assert_accessible(page)


def test_a_dsl_shares_the_teacher_asks_to_share_with_the_nurse_and_the_deputy_permits(
    page: Page, live_server, world, console_errors
):
    make_pupil(world.school.organisation, "Ellis", "Marsh")
    dsl, teacher, deputy, nurse = people(world)
    base_url = live_server.url

    reference = dsl_shares_with_the_teacher(page, base_url, dsl)
    dsl_looks_at_the_lists(page, reference)
    sign_out(page)

    teacher_acknowledges_and_asks_to_share(page, base_url, teacher, reference)
    share = Share.objects.get(organisation=world.school.organisation, reference=reference)
    assert share.status == Status.ACKNOWLEDGED
    assert all(signature.is_intact for signature in share.signatures.all())

    new_reference = deputy_permits_it(page, base_url, deputy, reference)
    deputy_opens_the_withdraw_page(page, reference)
    sign_out(page)
    request = ReshareRequest.objects.get(share=share)
    assert request.resulting_share.reference == new_reference
    assert Share.objects.get(reference=new_reference).recipient == nurse

    # The nurse sees the new record, cut down, and nothing of the teacher's.
    sign_in_as(page, base_url, nurse)
    menu(page, "Safeguarding")
    expect(page.get_by_role("link", name=new_reference, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=reference, exact=True)).to_have_count(0)
    visit(page, new_reference, the_record(new_reference))
    expect(page.get_by_text(CUT_DOWN)).to_be_visible()
    expect(page.get_by_text(DESCRIPTION)).to_have_count(0)
    sign_out(page)

    assert console_errors == []

    # The headteacher, typing the record's address, finds nothing there.
    sign_in_as(page, base_url, world.school["headteacher"])
    slug = world.school.slug
    for shown in (reference, new_reference):
        path = reverse("safeguarding:detail", kwargs={"org": slug, "reference": shown})
        response = page.goto(base_url + path)
        assert response is not None
        assert response.status == 404
        expect(heading(page)).to_have_text("Page not found")
        expect(page.get_by_text("Marsh")).to_have_count(0)
        assert_accessible(page)
    # The browser notes each 404 response itself; nothing else may go wrong.
    assert len(console_errors) == 2
    assert all("404" in error for error in console_errors), console_errors
