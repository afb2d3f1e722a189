from django.urls import path

from . import views

urlpatterns = [
    path("tokens/", views.tokens_page, name="tokens"),
]
