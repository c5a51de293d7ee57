from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from scoring.assessments.selectors import unread_notice_count


def notices(request: HttpRequest) -> dict[str, object]:
    """The unread-notice count of the menu bar: one query, and only when a
    page shows it (the admin's pages, for one, never do)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": SimpleLazyObject(lambda: unread_notice_count(user))}
