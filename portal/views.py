from django.http import JsonResponse

from . import health


def healthz(request):
    report = health.health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
