"""Who is asking, read through the cache: the API's token and the session's
user cost a cache read per request rather than a query (issue 20, item 4).

The cache holds, for ``ACCOUNT_CACHE_SECONDS``, a user's row (the ``User``
object, pickled) under its id and under each of its tokens. Every way an
account or a token changes through the ORM forgets it at once (the signals
below: a password changed, an account deactivated or deleted, a token
deleted), on every process, since the cache is the shared Redis; the time
limit only bounds a change made around the ORM (SQL by hand,
``QuerySet.update``). With Redis down the cache answers as an
empty one (cchc_portal.cache) and every request reads the database as before."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

User = get_user_model()


def _user_key(user_id: Any) -> str:
    return f"account:1:user:{user_id}"


def _token_key(key: str) -> str:
    return f"account:1:token:{key}"


def cached_user(user_id: Any) -> Any | None:
    """The user of that id (active or not, as the database has it), or None."""
    key = _user_key(user_id)
    user = cache.get(key)
    if user is None:
        user = User._default_manager.filter(pk=user_id).first()
        if user is None:
            return None
        cache.set(key, user, settings.ACCOUNT_CACHE_SECONDS)
    return user


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, its owner kept in the cache under the key
    (one cache read a request). The same answers: an unknown key or an
    inactive account is refused with DRF's own words."""

    def authenticate_credentials(self, key: str) -> tuple[Any, str]:
        cache_key = _token_key(key)
        user = cache.get(cache_key)
        if user is None:
            token = Token.objects.select_related("user").filter(key=key).first()
            if token is None:
                raise AuthenticationFailed(_("Invalid token."))
            user = token.user
            cache.set(cache_key, user, settings.ACCOUNT_CACHE_SECONDS)
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return user, key


class CachedModelBackend(ModelBackend):
    """Django's backend, the session's user read through the cache (the
    session's check of the password hash is Django's, on that user)."""

    def get_user(self, user_id: Any) -> Any | None:
        user = cached_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


@receiver(post_save, sender=User, dispatch_uid="account-cache-user-saved")
@receiver(post_delete, sender=User, dispatch_uid="account-cache-user-deleted")
def _user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # The user's row, and the tokens' copies of it.
    keys = [_user_key(instance.pk)]
    if kwargs.get("signal") is post_save:
        keys += [
            _token_key(key)
            for key in Token.objects.filter(user_id=instance.pk).values_list(
                "key", flat=True
            )
        ]
    cache.delete_many(keys)


@receiver(post_save, sender=Token, dispatch_uid="account-cache-token-saved")
@receiver(post_delete, sender=Token, dispatch_uid="account-cache-token-deleted")
def _token_changed(sender: Any, instance: Token, **kwargs: Any) -> None:
    cache.delete(_token_key(instance.key))
