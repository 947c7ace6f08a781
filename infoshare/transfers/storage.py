"""Where the ciphertext of secure transfers lives on disk.

Each file of a transfer (or of a reply to it) is one blob: AES-256-GCM
ciphertext, never the plaintext, under
`MEDIA_ROOT/transfers/<organisation id>/<random hex>.bin`. Names are random
(they say nothing about the file and cannot be guessed), folders are 0700,
files 0600 and created with O_EXCL, so nothing else is ever written over.
Nothing here knows about users, keys or permissions: the services decide,
this module only touches the disk.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from infoshare.core.models import Organisation

FOLDER = "transfers"
EXTENSION = "bin"


def root() -> Path:
    """The folder of every transfer's blobs (read when called: tests move MEDIA_ROOT)."""
    return Path(settings.MEDIA_ROOT) / FOLDER


def absolute(relative: str) -> Path:
    """The blob named `relative` (to MEDIA_ROOT), refusing any name that would leave the folder."""
    base = root().resolve()
    path = (Path(settings.MEDIA_ROOT) / relative).resolve()
    if base not in path.parents:
        raise ValueError("A transfer's blob must be inside the transfers folder.")
    return path


def new_blob(organisation: Organisation) -> tuple[str, Path]:
    """Create an empty blob under a new random name: its name relative to MEDIA_ROOT, and path.

    The file exists (0600, created exclusively) when this returns, so the
    caller writes into it and a failed send can remove it by name.
    """
    relative = f"{FOLDER}/{organisation.pk}/{secrets.token_hex(16)}.{EXTENSION}"
    path = absolute(relative)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkdir's mode applies only to folders it creates and is masked by umask: say it again.
    path.parent.chmod(0o700)
    root().chmod(0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    return relative, path


def open_blob(relative: str) -> BinaryIO:
    """The blob, open for reading. FileNotFoundError if it is gone."""
    return absolute(relative).open("rb")


def exists(relative: str) -> bool:
    return bool(relative) and absolute(relative).is_file()


def remove(relative: str) -> bool:
    """Delete the blob if it is there; whether there was one."""
    if not relative:
        return False
    try:
        absolute(relative).unlink()
    except FileNotFoundError:
        return False
    return True


def blobs_older_than(cutoff: datetime) -> Iterator[str]:
    """Every blob on disk last written before `cutoff`, named relative to MEDIA_ROOT."""
    base = root()
    if not base.exists():
        return
    media = Path(settings.MEDIA_ROOT)
    threshold = cutoff.timestamp()
    for path in base.rglob(f"*.{EXTENSION}"):
        if path.is_file() and path.stat().st_mtime < threshold:
            yield path.relative_to(media).as_posix()
