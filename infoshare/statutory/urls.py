from django.urls import include, path

app_name = "statutory"

# Each part of statutory sharing keeps its own addresses; the roll changes come
# last because their records are addressed by reference at the root.
urlpatterns = [
    # Roll changes imported from the school's information system.
    path("import/", include("infoshare.statutory.views.import_urls")),
    # The returns calendar: DfE censuses and the returns a school adds.
    path("returns/", include("infoshare.statutory.views.returns_urls")),
    # Roll changes and their notifications to the local authority (policy 5.1).
    path("", include("infoshare.statutory.views.roll_urls")),
]
