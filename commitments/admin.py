"""The admin of the commitments app: the organisation's models are registered
by `commitments.organisation.admin`, imported here so that Django's autodiscovery
finds them."""

from commitments.organisation import admin as organisation_admin  # noqa: F401
