"""Forms of the procedures app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from procedures.models import ImportRun, ImportSource

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def max_upload_bytes() -> int:
    return int(settings.CASE_IMPORT_MAX_UPLOAD_BYTES)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        validators=[FileExtensionValidator(["csv", "xlsx"])],
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    atomic = forms.BooleanField(
        label=_("All or nothing"),
        required=False,
        help_text=_("If any row is rejected, import no row at all."),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = max_upload_bytes()
        # The size the browser sent, counted by Django as the file streamed in.
        if upload.size is not None and upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s; a file of at most %(limit)s can be imported."),
                code="too_large",
                params={
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(limit),
                },
            )
        return upload

    def save(self, *, user: User) -> ImportRun:
        """A pending run holding the file, for the import task to take up."""
        upload: UploadedFile = self.cleaned_data["file"]
        return ImportRun.objects.create(
            source=ImportSource.UPLOAD,
            user=user,
            file_name=(upload.name or "")[:255],
            file=upload,
            atomic=self.cleaned_data["atomic"],
        )
