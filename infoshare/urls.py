from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin signs in through allauth too, so it gets rate limiting and the second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Infoshare administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("o/<slug:org>/audit/", include("infoshare.audit.urls")),
    path("o/<slug:org>/", include("infoshare.decisions.urls")),
    path("o/<slug:org>/proposals/", include("infoshare.proposals.urls")),
    path("o/<slug:org>/agreements/", include("infoshare.agreements.urls")),
    path("o/<slug:org>/assets/", include("infoshare.governance.urls")),
    path("o/<slug:org>/safeguarding/", include("infoshare.safeguarding.urls")),
    path("o/<slug:org>/statutory/", include("infoshare.statutory.urls")),
    path("o/<slug:org>/policy/", include("infoshare.governance.policy_urls")),
    path("o/<slug:org>/anonymise/", include("infoshare.anonymise.urls")),
    path("o/<slug:org>/transfers/", include("infoshare.transfers.urls")),
    path("t/", include("infoshare.transfers.public_urls")),
    path("oversight/", include("infoshare.reminders.urls")),
    path("", include("infoshare.core.urls")),
]

handler403 = "infoshare.core.views.permission_denied"
handler404 = "infoshare.core.views.page_not_found"
handler500 = "infoshare.core.views.server_error"
