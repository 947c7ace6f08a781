from django.urls import path

from infoshare.decisions.views import history, lists, records

app_name = "decisions"

urlpatterns = [
    path("decisions/", lists.decision_list, name="list"),
    path("decisions/new/", records.record_decision, name="record"),
    path("decisions/reviews/", records.review_queue, name="review_queue"),
    path("decisions/<str:reference>/", records.decision_detail, name="detail"),
    path("decisions/<str:reference>/correct/", records.correct_decision, name="correct"),
    path("decisions/<str:reference>/review/", records.review_disclosure, name="review"),
    path("people/<uuid:person>/history/", history.person_history, name="person_history"),
]
