"""The project's URLs plus one nobody wrote an access expectation for (see test_access_matrix)."""

from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("", include("portal.urls")),
    path("surprise/", lambda request: HttpResponse("new page"), name="surprise"),
]
