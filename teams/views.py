from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .models import ApiToken
from .services import token_create, token_revoke


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request):
    """List the user's tokens and create one. A new key is rendered in this response only, never again."""
    new_key, new_token, error = None, None, None
    if request.method == "POST":
        try:
            new_token, new_key = token_create(user=request.user, name=request.POST.get("name", ""))
        except ValidationError as exc:
            error = " ".join(exc.message_dict.get("name", exc.messages))
    tokens = ApiToken.objects.filter(user=request.user)
    response = render(
        request,
        "teams/tokens.html",
        {"nav": "tokens", "tokens": tokens, "new_key": new_key, "new_token": new_token, "error": error,
         "name": request.POST.get("name", "") if error else ""},
        status=400 if error else (201 if new_key else 200),
    )
    if new_key:
        # The key must not linger in any cache or the back/forward history.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_view(request, token_id):
    token = token_revoke(user=request.user, token_id=token_id)
    if token is None:
        raise Http404("No such token")
    messages.success(request, f"Revoked “{token.name}”. Scripts using it now get 401.")
    return redirect("tokens")
