from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def placeholder(request):
    # Replaced by the wizard issue; keeps navigation links resolvable meanwhile.
    return render(request, "placeholder.html", {"nav": "wizard"})
