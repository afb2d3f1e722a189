from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def tokens_page(request):
    # Replaced by the REST API issue (token create/revoke).
    return render(request, "placeholder.html", {"nav": "tokens"})
