from django.urls import path

from infoshare.governance import views

app_name = "governance"

urlpatterns = [
    # The information asset register (Appendix A step 6, policy 9.9), ?format=csv or xlsx.
    path("", views.asset_list, name="assets"),
    path("new/", views.add_asset, name="add_asset"),
    path("<uuid:asset>/", views.asset_detail, name="asset"),
    path("<uuid:asset>/edit/", views.edit_asset, name="edit_asset"),
    path("<uuid:asset>/retire/", views.retire_asset, name="retire_asset"),
]
