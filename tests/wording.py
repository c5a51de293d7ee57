"""The portal's Vietnamese wording as the catalogue has it, for assertions:
a test that reads `vi("Log in")` instead of the Vietnamese words keeps
passing when a translator improves the wording, and still fails when the page
shows something else or the message loses its translation."""

from django.utils import translation


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
