from django.urls import path

from infoshare.anonymise import views

app_name = "anonymise"

urlpatterns = [
    path("", views.run_list, name="list"),
    path("new/", views.new_run, name="new"),
    path("<uuid:run>/", views.detail, name="detail"),
    path("<uuid:run>/plan/", views.plan, name="plan"),
    path("<uuid:run>/progress/", views.progress, name="progress"),
    path("<uuid:run>/download/", views.download, name="download"),
]
