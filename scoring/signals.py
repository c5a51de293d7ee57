"""What changes the published results as shown, outside a publication: a
unit or a ranking group renamed, recoded or regrouped (in /admin/ or
anywhere else). The rankings over the API and the dashboard's pages show
names and codes read with the results and are kept with the generation of
published results (scoring.results.generation), so such a change starts a new
generation once it commits, as a publication does: the next reader reads
the new name, not a page kept for up to a day.

Connected in ScoringConfig.ready (commitments never imports scoring). A save
that changes none of the shown fields (a head's tenure, a unit's validity)
keeps the generation: that costs one query by primary key before the save,
as saves of units and groups are rare."""

from __future__ import annotations

from typing import Any

from django.db import models

from scoring.results import generation

# What the rankings and the dashboard show of each, by attribute name.
SHOWN = {
    "Unit": ("code", "name", "ranking_group_id"),
    "RankingGroup": ("code", "name"),
}
CHANGED = "_scoring_shown_changed"


def _shown(instance: models.Model) -> tuple[str, ...]:
    return SHOWN[type(instance).__name__]


def remember_shown_change(
    sender: type[models.Model], instance: models.Model, **kwargs: Any
) -> None:
    """pre_save: does this save change a shown field of the stored row?"""
    fields = _shown(instance)
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {f.removesuffix("_id") for f in fields} & {
        f.removesuffix("_id") for f in update_fields
    }:
        setattr(instance, CHANGED, False)
        return
    if instance.pk is None:
        # A new row is in no published result yet.
        setattr(instance, CHANGED, False)
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list(*fields)
    before = stored.first()
    now = tuple(getattr(instance, name) for name in fields)
    setattr(instance, CHANGED, before is not None and tuple(before) != now)


def shown_saved(
    sender: type[models.Model], instance: models.Model, **kwargs: Any
) -> None:
    """post_save: a new generation once the save commits, if it changed
    what is shown."""
    if getattr(instance, CHANGED, False):
        generation.advance()


def shown_deleted(
    sender: type[models.Model], instance: models.Model, **kwargs: Any
) -> None:
    """post_delete: whatever was kept may name it."""
    generation.advance()
