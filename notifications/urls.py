from django.urls import path

from . import views

urlpatterns = [
    path("teams/<slug:slug>/notifications/", views.team_notifications, name="team-notifications"),
    path("notifications/", views.my_notifications, name="my-notifications"),
]
