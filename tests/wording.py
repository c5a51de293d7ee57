"""The portal's Vietnamese wording as the catalogue has it, for assertions:
a test that reads `vi("Log in")` instead of the Vietnamese words keeps
passing when a translator improves the wording, and still fails when the page
shows something else or the message loses its translation."""

from django.utils import translation
from django.utils.functional import Promise


def vi(msgid: str, context: str | None = None) -> str:
    """The Vietnamese catalogue's translation of the English `msgid` (of
    `context`, for a pgettext message)."""
    with translation.override("vi"):
        if context is None:
            found = translation.gettext(msgid)
        else:
            found = translation.pgettext(context, msgid)
    if found == msgid:
        raise AssertionError(f"no Vietnamese translation of {msgid!r} in the catalogue")
    return found


def vi_n(singular: str, plural: str, number: int) -> str:
    """The Vietnamese translation of an ngettext message for `number` (the
    placeholders left for the caller to fill, as the code does)."""
    with translation.override("vi"):
        found = translation.ngettext(singular, plural, number)
    if found in (singular, plural):
        raise AssertionError(f"no Vietnamese translation of {plural!r}")
    return found


def vi_label(label: Promise | str) -> str:
    """A lazily translated label (a choice's, a field's) as a Vietnamese page
    shows it."""
    with translation.override("vi"):
        found = str(label)
    with translation.override("en"):
        if found == str(label):
            raise AssertionError(f"no Vietnamese translation of {found!r}")
    return found
