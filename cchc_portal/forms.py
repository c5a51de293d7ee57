"""A service's refusal shown on the form that asked for it."""

from collections.abc import Callable

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


def applied(form: BaseForm, act: Callable[[], object]) -> bool:
    """Whether a posted form went through: it is valid and the service it asks
    for (``act``, run only then, so it may read ``form.cleaned_data``) did not
    refuse. A refusal is put on the form, each message on its field."""
    if not form.is_valid():
        return False
    try:
        act()
    except ValidationError as exc:
        attach(form, exc)
        return False
    return True
