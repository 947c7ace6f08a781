from django.urls import path

from infoshare.safeguarding.views import lists, records, requests

app_name = "safeguarding"

urlpatterns = [
    path("", lists.home, name="home"),
    path("records/", lists.record_list, name="list"),
    path("by-pupil/", lists.by_pupil, name="by_pupil"),
    path("by-recipient/", lists.by_recipient, name="by_recipient"),
    path("requests/", lists.pending_requests, name="requests"),
    path("new/", records.share_information, name="new"),
    path("<str:reference>/", records.detail, name="detail"),
    path("<str:reference>/acknowledge/", records.acknowledge, name="acknowledge"),
    path("<str:reference>/withdraw/", records.withdraw, name="withdraw"),
    path("<str:reference>/attached/", records.record_attached, name="attached"),
    path("<str:reference>/form.pdf", records.form_pdf, name="form_pdf"),
    path("<str:reference>/share-further/", requests.request_reshare, name="request_reshare"),
    path("<str:reference>/requests/<uuid:request_uuid>/", requests.request_detail, name="request"),
    path("<str:reference>/requests/<uuid:request_uuid>/permit/", requests.permit, name="permit"),
]
