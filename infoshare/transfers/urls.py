"""The members' pages of secure transfers, under /o/<org>/transfers/."""

from __future__ import annotations

from django.urls import path

from infoshare.transfers.views import members

app_name = "transfers"

urlpatterns = [
    path("", members.transfer_list, name="list"),
    path("new/", members.start, name="start"),
    path("new/details/", members.new_transfer, name="new"),
    path("<str:reference>/", members.detail, name="detail"),
    path("<str:reference>/revoke/", members.revoke, name="revoke"),
    path("<str:reference>/unlock/", members.unlock, name="unlock"),
    path("<str:reference>/replies/<uuid:file>/", members.reply_file, name="reply_file"),
]
