"""The form of the roll changes import: the CSV file (issue 7, item 1).

Only the file's text is kept, once it is known to read as roll changes; the
rows are checked afterwards, all of them, so every problem shows at once.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from infoshare.core.imports import MAX_UPLOAD_BYTES, UnreadableFile
from infoshare.statutory import imports


class RollChangeFileForm(forms.Form):
    file = forms.FileField(
        label="Upload a CSV file",
        help_text="Export the roll changes from your school's information system (SIMS, Arbor "
        "or Bromcom, for example) as a CSV file of up to 2 MB, with one row per change and a "
        "heading row at the top.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": "Select a CSV file", "empty": "The file is empty"},
    )

    filename = ""

    def clean_file(self) -> str:
        """The file's text: the text is kept between the steps, never the file."""
        upload = self.cleaned_data["file"]
        self.filename = upload.name or ""
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("The file must be smaller than 2 MB")
        try:
            return imports.read_upload(self.filename, upload.read())
        except UnreadableFile as problem:
            raise ValidationError(problem.message) from problem
