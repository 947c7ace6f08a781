"""/healthz, the error pages, and headers every response carries."""

from __future__ import annotations

from unittest import mock

import pytest
from allauth.mfa.models import Authenticator
from django.db.utils import OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse

from infoshare.core import views
from infoshare.core.middleware import CONTENT_SECURITY_POLICY


@pytest.mark.django_db
def test_healthz_answers_ok():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_reports_a_database_that_does_not_answer():
    with mock.patch.object(views.connection, "cursor", side_effect=OperationalError("down")):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


@pytest.mark.django_db
def test_healthz_only_answers_get():
    assert Client().post("/healthz").status_code == 405


def test_healthz_is_reachable_by_someone_held_at_second_factor_set_up(world, client_for):
    dsl = world.school["dsl"]
    Authenticator.objects.filter(user=dsl).delete()
    client = client_for(dsl)
    assert (
        client.get(reverse("core:dashboard", kwargs={"org": world.school.slug})).status_code == 302
    )
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_404_page_uses_the_site_layout():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    content = response.content.decode()
    assert "Page not found" in content
    assert 'class="govuk-template"' in content
    assert "govuk-footer" in content
    assert "<title>Page not found" in content


def test_404_page_for_a_signed_in_member(world, client_for):
    response = client_for(world.school["staff"]).get(
        reverse("core:dashboard", kwargs={"org": world.other.slug})
    )
    assert response.status_code == 404
    content = response.content.decode()
    assert "Page not found" in content
    assert "govuk-footer" in content
    assert "Sign out" in content  # the signed-in header


def test_403_page(world, client_for):
    response = client_for(world.school["staff"]).get(
        reverse("core:members", kwargs={"org": world.school.slug})
    )
    assert response.status_code == 403
    content = response.content.decode()
    assert "You do not have permission" in content
    assert "govuk-footer" in content
    assert "Alder Primary School" in content  # the page knows which organisation it is in
    assert "Members of" not in content


@pytest.mark.django_db
def test_500_page_renders_without_context_processors():
    response = views.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"<html" in response.content


@pytest.mark.django_db
def test_every_response_has_a_content_security_policy():
    for path in ("/healthz", "/no-such-page/", reverse("account_login")):
        response = Client().get(path)
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


@pytest.mark.django_db
def test_pages_cannot_be_framed():
    assert Client().get(reverse("account_login"))["X-Frame-Options"] == "DENY"
