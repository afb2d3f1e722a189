from django.urls import path

from . import views

urlpatterns = [
    path("teams/<slug:slug>/notifications/", views.team_notifications, name="team-notifications"),
]
