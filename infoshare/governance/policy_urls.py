"""The information sharing policy (policy sections 9 and 10), mounted at /o/<org>/policy/."""

from django.urls import path

from infoshare.governance import policy_views as views

app_name = "policy"

urlpatterns = [
    # The version in force, its review, open triggers, "I have read and understood it".
    path("", views.home, name="home"),
    path("versions/", views.versions, name="versions"),
    path("new/", views.new_version, name="new"),
    path("versions/<uuid:version>/", views.version_detail, name="version"),
    path("versions/<uuid:version>/document/", views.document, name="document"),
    path("versions/<uuid:version>/edit/", views.edit_version, name="edit"),
    path("versions/<uuid:version>/approve/", views.approve_version, name="approve"),
    path("versions/<uuid:version>/discard/", views.discard_version, name="discard"),
    path("versions/<uuid:version>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("triggers/new/", views.record_trigger, name="record_trigger"),
    # Who has acknowledged the version in force; ?show=not-yet, ?format=csv or xlsx.
    path("acknowledgements/", views.acknowledgements, name="acknowledgements"),
]
