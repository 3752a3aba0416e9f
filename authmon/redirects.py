"""Where a form may send the user back to: the one rule for every ``next`` the console accepts."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str) -> str:
    """The POSTed ``next`` when it is a path on this site, else ``default``.

    Only a local path is taken (``/...``): never another host, a scheme-relative ``//host`` or a backslash that
    some browsers read as a slash, whatever Django's own host check would allow.
    """
    back = request.POST.get("next", "")
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back
    if local and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return default
