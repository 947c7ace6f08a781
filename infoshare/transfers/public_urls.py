"""The recipient's pages, under /t/<token>/: no account, the link's token is the key."""

from __future__ import annotations

from django.urls import path

from infoshare.transfers.views import public

app_name = "transfers_public"

urlpatterns = [
    path("<str:token>/", public.landing, name="landing"),
    path("<str:token>/code/", public.code, name="code"),
    path("<str:token>/files/", public.files, name="files"),
    path("<str:token>/files/<uuid:file>/", public.download, name="download"),
    path("<str:token>/reply/", public.reply, name="reply"),
]
