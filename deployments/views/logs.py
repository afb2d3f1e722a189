"""The deployment page's Logs panel (htmx partial); without htmx the same URL answers the log as text."""

from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

import clusters

from ..selectors import deployment_get_for_user
from ..selectors_logs import (
    PAGE_TAIL,
    LogQuery,
    LogQueryInvalid,
    deployment_log_read,
    deployment_pods,
    log_query_parse,
    log_source,
)


def _source(deployment, pods, query):
    """The page forgives what the API refuses: a pod replaced since the page was drawn, or a container
    of the pod picked before, falls back to the default (with a word when the pod is gone)."""
    try:
        return (*log_source(deployment, pods, query), "")
    except Http404 as exc:
        return (*log_source(deployment, pods, replace(query, pod="", container="")), str(exc))
    except LogQueryInvalid:
        return (*log_source(deployment, pods, replace(query, container="")), "")


@login_required
def deployment_logs_panel(request, pk):
    deployment = deployment_get_for_user(request.user, pk)
    pods, pod, container, text, error = [], None, "", "", ""
    try:
        query = log_query_parse(request.GET, default_tail=PAGE_TAIL)
    except LogQueryInvalid as exc:
        query, error = LogQuery(tail=PAGE_TAIL), str(exc)
    try:
        pods = deployment_pods(deployment)
        pod, container, notice = _source(deployment, pods, query)
        error = error or notice
        if pod is not None:
            text = deployment_log_read(deployment, pod, container, replace(query, follow=False))
    except clusters.ClusterError as exc:
        error = error or f"The log is not available right now: {exc.message}"
    if not request.htmx:
        return HttpResponse(text or error or "No pods right now.\n", content_type="text/plain; charset=utf-8")
    following = query.follow and pod is not None and not error
    return render(request, "deployments/detail.html#logs", {
        "d": deployment, "log_pods": pods, "log_pod": pod, "log_container": container, "log_text": text,
        "log_error": error, "log_query": query, "log_following": following, "log_loaded": True})
