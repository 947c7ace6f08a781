"""Where the files of an anonymisation run live, and how they go.

An uploaded dataset is personal data; the file made from it may still be. Both
live under `MEDIA_ROOT/anonymise/<organisation id>/` with random names (a name
says nothing about the data and cannot be guessed), written with the upload
permissions (0600), and are removed after the download, and in any case
within 24 hours by `manage.py anonymise_cleanup` (hourly, taking files older
than `models.FILES_KEPT_FOR`). Nothing here knows about users or permissions:
the services decide, this module only touches the disk.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from infoshare.core.models import Organisation

FOLDER = "anonymise"


def root() -> Path:
    """The folder of every run's files (read when called: tests move MEDIA_ROOT)."""
    return Path(settings.MEDIA_ROOT) / FOLDER


def new_relative_path(organisation: Organisation, extension: str) -> str:
    """A fresh random name for a file of `organisation`, relative to MEDIA_ROOT."""
    return f"{FOLDER}/{organisation.pk}/{secrets.token_hex(16)}.{extension}"


def absolute(relative: str) -> Path:
    """The file of `relative`, refusing any name that would leave the folder."""
    base = root().resolve()
    path = (Path(settings.MEDIA_ROOT) / relative).resolve()
    if base not in path.parents:
        raise ValueError("A run's file must be inside the anonymisation folder.")
    return path


def save_bytes(organisation: Organisation, content: bytes, extension: str) -> str:
    """Write `content` under a new random name; returns the name relative to MEDIA_ROOT."""
    relative = new_relative_path(organisation, extension)
    path = absolute(relative)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _file_mode())
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return relative


def prepare(organisation: Organisation, extension: str) -> tuple[str, Path]:
    """A new random name, and its folder made, for a file the engine writes itself."""
    relative = new_relative_path(organisation, extension)
    path = absolute(relative)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return relative, path


def remove(relative: str) -> bool:
    """Delete the file if it is there; whether there was one."""
    if not relative:
        return False
    try:
        absolute(relative).unlink()
    except FileNotFoundError:
        return False
    return True


def files_older_than(cutoff: datetime) -> Iterator[str]:
    """Every file in the folder last written before `cutoff` (relative to MEDIA_ROOT)."""
    base = root()
    if not base.exists():
        return
    media = Path(settings.MEDIA_ROOT)
    threshold = cutoff.timestamp()
    for path in base.rglob("*"):
        if path.is_file() and path.stat().st_mtime < threshold:
            yield path.relative_to(media).as_posix()


def _file_mode() -> int:
    mode = getattr(settings, "FILE_UPLOAD_PERMISSIONS", None)
    return mode if isinstance(mode, int) else 0o600
