from django.urls import path

from infoshare.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("organisations/", views.choose_organisation, name="organisations"),
    path("invitation/<str:user>/<token>/", views.accept_invitation, name="accept_invitation"),
    path("o/<slug:org>/", views.dashboard, name="dashboard"),
    path("o/<slug:org>/members/", views.member_list, name="members"),
    path("o/<slug:org>/members/invite/", views.invite_member, name="invite_member"),
    path("o/<slug:org>/members/<uuid:member>/", views.member_detail, name="member"),
    path("o/<slug:org>/members/<uuid:member>/remove/", views.remove_member, name="remove_member"),
    path(
        "o/<slug:org>/members/<uuid:member>/resend/",
        views.resend_invitation,
        name="resend_invitation",
    ),
    path("o/<slug:org>/people/", views.person_list, name="people"),
    path("o/<slug:org>/people/add/", views.add_person, name="add_person"),
    path("o/<slug:org>/people/import/", views.import_pupils, name="import_pupils"),
    path("o/<slug:org>/people/<uuid:person>/", views.person_detail, name="person"),
    path("o/<slug:org>/people/<uuid:person>/edit/", views.edit_person, name="edit_person"),
]
