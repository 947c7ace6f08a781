"""Renders any Django form field's widget with GOV.UK Frontend classes.

Used by templates/forms/govuk_field.html, so every form (ours and allauth's)
gets the GOV.UK look and the error state without per-form code.
"""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.core.paginator import Page, Paginator
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

register = template.Library()

_WIDGET_CLASSES: list[tuple[type[forms.Widget], str]] = [
    (forms.CheckboxSelectMultiple, "govuk-checkboxes__input"),
    (forms.RadioSelect, "govuk-radios__input"),
    (forms.CheckboxInput, "govuk-checkboxes__input"),
    (forms.Textarea, "govuk-textarea"),
    (forms.Select, "govuk-select"),
    (forms.FileInput, "govuk-file-upload"),
    (forms.widgets.Input, "govuk-input"),
]
_HAS_ERROR_STYLE = {"govuk-input", "govuk-select", "govuk-textarea", "govuk-file-upload"}
_GROUPED = (forms.CheckboxSelectMultiple, forms.RadioSelect)


@register.filter
def govuk_widget(field: BoundField) -> SafeString:
    widget = field.field.widget
    css = next((css for kind, css in _WIDGET_CLASSES if isinstance(widget, kind)), "")
    classes = [*widget.attrs.get("class", "").split(), css]
    attrs: dict[str, str | bool] = {}
    if field.errors:
        if css in _HAS_ERROR_STYLE:
            classes.append(f"{css}--error")
        if not isinstance(widget, _GROUPED):
            # The error message is read out with the input (the hint too, if any).
            hint = [f"{field.auto_id}_helptext"] if field.help_text else []
            attrs["aria-describedby"] = " ".join([*hint, f"{field.auto_id}_error"])
    attrs["class"] = " ".join(dict.fromkeys(c for c in classes if c))
    return field.as_widget(attrs=attrs)


@register.simple_tag
def page_links(page: Page[Any]) -> list[int | str]:
    """The page numbers to link to, with an ellipsis for each run left out.

    Elided, so a list of thousands of pages renders a handful of links.
    """
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


@register.simple_tag
def page_ellipsis() -> str:
    return str(Paginator.ELLIPSIS)
