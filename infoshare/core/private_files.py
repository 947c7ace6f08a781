"""Folders of private files under MEDIA_ROOT: datasets to anonymise, transfers' ciphertext.

What both need from the disk and nothing more: random names that say nothing
about a file and cannot be guessed, folders 0700 and files 0600 created
exclusively (nothing is ever written over), a name that would leave the folder
refused, deletion that tolerates a file already gone, and the files older than
a moment (for the sweeps that delete what outlived its purpose). Nothing here
knows about users or permissions: the services decide, this only touches the disk.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from infoshare.core.models import Organisation


@dataclass(frozen=True)
class PrivateFolder:
    """`MEDIA_ROOT/<name>/<organisation id>/<random hex>.<extension>`, for one kind of file."""

    name: str
    # How the refusal of a name outside the folder calls the folder's files.
    what: str

    def root(self) -> Path:
        """The folder (MEDIA_ROOT is read when called: tests move it)."""
        return Path(settings.MEDIA_ROOT) / self.name

    def absolute(self, relative: str) -> Path:
        """The file named `relative` (to MEDIA_ROOT), refusing a name that leaves the folder."""
        path = (Path(settings.MEDIA_ROOT) / relative).resolve()
        if self.root().resolve() not in path.parents:
            raise ValueError(f"{self.what} must be inside the {self.name} folder.")
        return path

    def new_name(self, organisation: Organisation, extension: str) -> str:
        """A fresh random name for a file of `organisation`, relative to MEDIA_ROOT."""
        return f"{self.name}/{organisation.pk}/{secrets.token_hex(16)}.{extension}"

    def prepare(self, organisation: Organisation, extension: str) -> tuple[str, Path]:
        """A new random name, with its folder made (0700), for a file written by others."""
        relative = self.new_name(organisation, extension)
        path = self.absolute(relative)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkdir's mode applies only to folders it creates, masked by umask: say it again.
        path.parent.chmod(0o700)
        self.root().chmod(0o700)
        return relative, path

    def create(self, organisation: Organisation, extension: str) -> tuple[str, Path]:
        """An empty file (0600, created exclusively) under a new random name: its name
        relative to MEDIA_ROOT, and its path. It exists when this returns, so a caller
        that fails while writing into it can remove it by name."""
        relative, path = self.prepare(organisation, extension)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return relative, path

    def remove(self, relative: str) -> bool:
        """Delete the file if it is there; whether there was one."""
        if not relative:
            return False
        try:
            self.absolute(relative).unlink()
        except FileNotFoundError:
            return False
        return True

    def files_older_than(self, cutoff: datetime, pattern: str = "*") -> Iterator[str]:
        """Every file matching `pattern` last written before `cutoff`, relative to MEDIA_ROOT."""
        base = self.root()
        if not base.exists():
            return
        media = Path(settings.MEDIA_ROOT)
        threshold = cutoff.timestamp()
        for path in base.rglob(pattern):
            if path.is_file() and path.stat().st_mtime < threshold:
                yield path.relative_to(media).as_posix()
