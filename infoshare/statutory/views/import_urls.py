"""Importing roll changes from the school's information system: /o/<org>/statutory/import/."""

from django.urls import path

from infoshare.statutory.views import imports

urlpatterns = [
    path("", imports.import_roll_changes, name="import_roll_changes"),
    path("template.csv", imports.template_csv, name="import_template"),
]
