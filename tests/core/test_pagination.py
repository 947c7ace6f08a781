"""The shared pagination: a handful of links however many pages, other filters kept."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def rendered(number: int, query: str = "") -> str:
    page = Paginator(range(1000), 10).get_page(number)
    request = RequestFactory().get(f"/list/{query}")
    return render_to_string("includes/pagination.html", {"page": page}, request=request)


def linked_numbers(html: str) -> list[str]:
    return re.findall(r'aria-label="Page (\d+)"', html)


def test_a_middle_page_links_its_neighbours_and_both_ends_with_gaps_marked():
    html = rendered(50, "?outcome=shared&page=50")
    assert linked_numbers(html) == ["1", "48", "49", "50", "51", "52", "100"]
    assert html.count("govuk-pagination__item--ellipses") == 2
    assert 'aria-current="page">50<' in html
    assert "?outcome=shared&amp;page=51" in html  # the filters stay


def test_the_first_page_has_no_previous_link_and_one_gap():
    html = rendered(1)
    assert 'rel="prev"' not in html
    assert 'rel="next"' in html
    assert html.count("govuk-pagination__item--ellipses") == 1


def test_a_single_page_shows_no_pagination():
    page = Paginator(range(5), 10).get_page(1)
    html = render_to_string(
        "includes/pagination.html", {"page": page}, request=RequestFactory().get("/")
    )
    assert "govuk-pagination" not in html
