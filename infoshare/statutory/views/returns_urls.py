"""The returns calendar's addresses, under /o/<org>/statutory/returns/ (namespace `statutory`)."""

from django.urls import path

from infoshare.statutory.views import returns

urlpatterns = [
    path("", returns.returns_calendar, name="returns"),
    path("new/", returns.new_return, name="return_new"),
    path("census/", returns.add_census, name="returns_census"),
    path("<uuid:return_id>/", returns.return_detail, name="return_detail"),
    path("<uuid:return_id>/edit/", returns.edit_return, name="return_edit"),
    path("<uuid:return_id>/submitted/", returns.mark_submitted, name="return_submitted"),
    path("<uuid:return_id>/withdraw/", returns.withdraw_return, name="return_withdraw"),
]
