"""Uploads: who may send a file is decided before a byte of it is read, and how much is read is bounded.

Django parses a multipart body the first time anything touches ``request.POST`` or ``request.FILES``, and the CSRF
check touches it for every POST before the view runs: without this module, anyone (an anonymous client with a
made-up CSRF cookie, an auditor) could make authmon spool a file of any size to disk before it answers 302 or 403.

* :data:`UPLOAD_VIEWS` names the views that accept files, each with the permission it needs and the setting that
  holds its size limit. :class:`UploadGateMiddleware` (placed before ``CsrfViewMiddleware``) answers a POST to such a
  view without reading its body when the user is anonymous (to sign-in), lacks the permission (403) or announces a
  ``Content-Length`` over the limit (413, a page that says the limit). Only then is the body parsed.
* :class:`LimitedUploadHandler` (first in ``FILE_UPLOAD_HANDLERS``) counts file bytes as they arrive and stops past
  the request's limit, for a body whose ``Content-Length`` cannot be trusted (a server that does not cap the stream
  at it). Every other view takes no file at all: a file part sent to it is refused (400) before it is stored.

Deploy behind a WSGI server (gunicorn, as the image does): an ASGI server reads the whole body before Django runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from authmon.permissions import Perm, has_perm

LIMIT_ATTR = "_authmon_upload_limit"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class UploadPolicy:
    """Who may upload to a view (a permission, checked for the kind the URL serves) and how many bytes."""

    perm: Perm
    max_bytes_setting: str

    def allows(self, user: Any, view_kwargs: dict[str, Any]) -> bool:
        return has_perm(user, self.perm, getattr(view_kwargs.get("kind"), "name", None))

    def max_bytes(self) -> int:
        return int(getattr(settings, self.max_bytes_setting))


# The views that accept file uploads, by dotted path. A view missing here refuses files (400), so a forgotten entry
# fails loudly instead of opening a hole.
UPLOAD_VIEWS: dict[str, UploadPolicy] = {
    "console.views.logs.restore_view": UploadPolicy(Perm.RESTORE, "AUTHMON_RESTORE_MAX_BYTES"),
}


class UploadRefused(MultiPartParserError):
    """A file was sent where none is accepted. Django answers 400 and, as for any parse error, treats the request
    as having no form data from then on, so no later reader (the CSRF check of the error page) parses it again."""


class UploadTooLarge(UploadRefused):
    """More file data arrived than the view's limit allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The upload is larger than {limit} bytes.")
        self.limit = limit


def policy_for(view_func: Any) -> UploadPolicy | None:
    name = getattr(view_func, "__qualname__", None)  # partials and callable objects have none: not upload views
    return UPLOAD_VIEWS.get(f"{getattr(view_func, '__module__', '')}.{name}") if name else None


def upload_handler_limit(request: HttpRequest, limit: int) -> None:
    """Let ``request`` carry up to ``limit`` bytes of files (before its body is parsed)."""
    setattr(request, LIMIT_ATTR, limit)


def size_text(limit: int) -> str:
    """A limit as people read it: ``200 MB``, ``512 KB``."""
    mib = 1024 * 1024
    return f"{limit / mib:,.0f} MB" if limit >= mib else f"{max(1, round(limit / 1024)):,} KB"


def _content_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # Django reads nothing of a body whose length it cannot parse


def too_large_response(request: HttpRequest, policy: UploadPolicy) -> HttpResponse:
    context = {"limit": size_text(policy.max_bytes()), "setting": policy.max_bytes_setting, "back": request.path}
    return render(request, "413.html", context, status=413)


class UploadGateMiddleware:
    """Authorise an upload, and check its announced size, before its body is read (see the module docstring)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        policy = policy_for(view_func)
        if policy is None or request.method not in BODY_METHODS:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not policy.allows(request.user, view_kwargs):
            # Rendered here: Django's own 403 view runs the CSRF check, which would read the body after all.
            return render(request, "403.html", status=403)
        limit = policy.max_bytes()
        if _content_length(request) > limit:
            return too_large_response(request, policy)
        upload_handler_limit(request, limit)
        try:
            request.FILES  # noqa: B018 - parse here, where a body that outgrows the limit can still answer 413
        except UploadTooLarge:
            return too_large_response(request, policy)
        return None


class LimitedUploadHandler(FileUploadHandler):
    """First of the upload handlers: passes file data on to the next ones while the request's limit allows it.

    The limit is the one :class:`UploadGateMiddleware` set for an upload view; anywhere else it is absent and any
    file part is refused before a byte of it is stored.
    """

    def handle_raw_input(self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any) -> None:
        self.limit: int | None = getattr(self.request, LIMIT_ATTR, None)
        self.received = 0
        if self.limit is not None and content_length > self.limit:
            raise UploadTooLarge(self.limit)

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if getattr(self, "limit", None) is None:
            raise UploadRefused("This page accepts no file uploads.")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.limit is not None and self.received > self.limit:
            self._discard_partial_files()
            raise UploadTooLarge(self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file

    def _discard_partial_files(self) -> None:
        """Close (and so delete) what the other handlers spooled so far, instead of waiting for the request to go."""
        for handler in self.request.upload_handlers if self.request is not None else ():
            partial = getattr(handler, "file", None)
            if handler is not self and partial is not None:
                partial.close()
