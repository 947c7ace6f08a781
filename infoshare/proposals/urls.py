from django.urls import path

from infoshare.proposals.views import assessment, drafting, report

app_name = "proposals"

urlpatterns = [
    path("", drafting.proposal_list, name="list"),
    path("new/", drafting.start_proposal, name="start"),
    path("<str:reference>/", drafting.proposal_detail, name="detail"),
    path("<str:reference>/step-1/", drafting.step_one, name="step_one"),
    path("<str:reference>/step-2/", drafting.step_two, name="step_two"),
    path("<str:reference>/screening/", drafting.screening, name="screening"),
    path("<str:reference>/screening/submit/", drafting.submit_screening, name="submit_screening"),
    path("<str:reference>/withdraw/", drafting.withdraw, name="withdraw"),
    path("<str:reference>/assessment/", assessment.assess, name="assess"),
    path("<str:reference>/full-pia/choice/", assessment.choose_pia, name="choose_pia"),
    path("<str:reference>/full-pia/", assessment.full_pia, name="pia"),
    path("<str:reference>/full-pia/risks/new/", assessment.add_risk, name="add_risk"),
    path("<str:reference>/full-pia/risks/<uuid:risk>/", assessment.change_risk, name="change_risk"),
    path(
        "<str:reference>/full-pia/risks/<uuid:risk>/remove/",
        assessment.remove_risk,
        name="remove_risk",
    ),
    path("<str:reference>/full-pia/submit/", assessment.submit_pia, name="submit_pia"),
    path("<str:reference>/advice/", assessment.advise, name="advise"),
    path("<str:reference>/decision/", assessment.decide, name="decide"),
    path("<str:reference>/report.pdf", report.pia_report, name="report"),
]
