"""Where authmon keeps the files it writes (exports, retention archives) and receives (restore uploads).

The invariant: every file lives in its tenant's own directory of a store, under a name authmon made up
(``secrets.token_urlsafe``: 192 random bits, nothing a user or an ingested record chose), created with mode 0600 in a
directory of mode 0700, so only authmon's own OS user can read it. A stored file is reached only through its row in
:class:`jobs.models.RunFile` (tenant, name, digest), never through a path taken from a request or a record:
:func:`StoredPath.resolve` re-checks the name's shape and that the resolved path lies inside the tenant's directory,
and :func:`file_open_verified` serves it only while its SHA-256 still matches what was recorded when it was written.
No server path is ever shown to a user.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings

_NAME = re.compile(r"[A-Za-z0-9_-]{32}\.(json|csv)")
_CHUNK = 1024 * 1024


class StoreError(Exception):
    """A stored file is missing, changed since it was written, or was asked for by a name authmon did not make."""


def store_root(purpose: str) -> Path:
    """The directory of a store: exports and uploads under ``AUTHMON_EXPORT_DIR``, archives under the archive dir."""
    return Path(settings.AUTHMON_ARCHIVE_DIR if purpose == "archive" else settings.AUTHMON_EXPORT_DIR)


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # also when it existed with a looser mode (umask, an older release)
    return path


def tenant_dir(purpose: str, tenant_id: int) -> Path:
    path = store_root(purpose) / f"tenant-{int(tenant_id)}"
    if path.is_symlink():  # a link planted in the store would send a tenant's files (and the chmod) elsewhere
        raise StoreError("a tenant's directory of the store must not be a link")
    return _private_dir(path)


@dataclass(frozen=True)
class StoredPath:
    """A file's place in a store: which store, which tenant, which name."""

    purpose: str
    tenant_id: int
    name: str

    def resolve(self) -> Path:
        """The absolute path, refused unless the name is one authmon makes and the path stays in the tenant's dir."""
        if not _NAME.fullmatch(self.name):
            raise StoreError("not a stored file name")
        base = tenant_dir(self.purpose, self.tenant_id).resolve()
        path = (base / self.name).resolve()
        if path.parent != base:
            raise StoreError("a stored file must lie in its tenant's directory")
        return path


@dataclass(frozen=True)
class WrittenFile:
    """What :func:`file_write` stored: the place, the digest and the size taken from the bytes on disk."""

    place: StoredPath
    sha256: str
    size: int


def new_place(purpose: str, tenant_id: int, fmt: str) -> StoredPath:
    if fmt not in {"json", "csv"}:
        raise StoreError(f"unknown file format {fmt!r}")
    return StoredPath(purpose, int(tenant_id), f"{secrets.token_urlsafe(24)}.{fmt}")


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextmanager
def file_write(purpose: str, tenant_id: int, fmt: str, *, text: bool = True) -> Iterator[tuple[IO[Any], StoredPath]]:
    """Open a new private file of the tenant's store for writing; on success it appears whole, else not at all.

    The caller writes to the handle, then :func:`file_seal` gives the digest and size to record. Written under a
    temporary name (``O_EXCL | O_NOFOLLOW``, mode 0600) and renamed into place, so a crashed run leaves no partial
    file to download.
    """
    place = new_place(purpose, tenant_id, fmt)
    final = place.resolve()
    tmp = final.with_name(final.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        mode = "w" if text else "wb"
        kwargs: dict[str, Any] = {"encoding": "utf-8", "newline": ""} if text else {}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle, place
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def file_seal(place: StoredPath) -> WrittenFile:
    """The digest and size of a file just written, to record beside it."""
    sha256, size = _digest(place.resolve())
    return WrittenFile(place, sha256, size)


def file_store_bytes(purpose: str, tenant_id: int, fmt: str, chunks: Iterator[bytes]) -> WrittenFile:
    """Store bytes (an upload, read chunk by chunk) as a new private file and return what was written."""
    with file_write(purpose, tenant_id, fmt, text=False) as (handle, place):
        for chunk in chunks:
            handle.write(chunk)
    return file_seal(place)


def file_open_verified(place: StoredPath, *, sha256: str, size: int) -> IO[bytes]:
    """Open a stored file for reading, only if it is still exactly what was written (size and SHA-256)."""
    path = place.resolve()
    if not path.is_file():
        raise StoreError("The file has expired and was removed; run the export again.")
    actual, actual_size = _digest(path)
    if actual_size != size or not secrets.compare_digest(actual, sha256):
        raise StoreError("The file on the server no longer matches what was written; it is not served.")
    return path.open("rb")


def file_remove(place: StoredPath) -> None:
    place.resolve().unlink(missing_ok=True)
