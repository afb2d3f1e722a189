"""GET /api/v1/teams/{slug}/spend/: spend by day and by deployment, for any member of the team."""

from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from spend.selectors import team_spend_by_day
from teams.selectors import teams_for_user

from .serializers import SpendQuerySerializer, TeamSpendSerializer

DEFAULT_DAYS = 30
MAX_DAYS = 366


class TeamSpendView(APIView):
    @extend_schema(
        summary="Spend of a team by day and by deployment",
        tags=["spend"],
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day, YYYY-MM-DD "
                             "(default: 30 days before `to`)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive, YYYY-MM-DD (default: today)"),
        ],
        responses={200: TeamSpendSerializer},
    )
    def get(self, request, slug):
        team = teams_for_user(request.user).filter(slug=slug).first()
        if team is None:
            raise Http404("No such team")
        query = SpendQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        end = query.validated_data.get("to") or timezone.localdate()
        try:
            start = query.validated_data.get("from") or end - timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:  # `to` in the first days of year 1
            raise serializers.ValidationError({"to": ["Pick a later date."]}) from None
        if start > end:
            raise serializers.ValidationError({"from": ["`from` must be on or before `to`."]})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError({"from": [f"Ask for at most {MAX_DAYS} days at a time."]})
        return Response(TeamSpendSerializer(team_spend_by_day(team=team, start=start, end=end)).data)
