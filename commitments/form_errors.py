"""A service's refusal shown on the form that asked for it."""

from django.core.exceptions import ValidationError
from django.forms import BaseForm


def attach(form: BaseForm, exc: ValidationError) -> None:
    """Each message on the field the service names, or on the form when the
    form has no such field."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
