from django.http import HttpRequest

from commitments.organisation.access import user_roles
from commitments.organisation.navigation import navigation_for


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_roles": frozenset()}
    return {"nav_items": navigation_for(user), "nav_roles": user_roles(user)}
