from django.urls import path

from infoshare.reminders import views

app_name = "reminders"

urlpatterns = [
    path("", views.oversight, name="oversight"),
]
