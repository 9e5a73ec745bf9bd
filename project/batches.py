"""Housekeeping on large tables: deletes in bounded batches, each its own short statement, so that
no job holds a long lock or builds one huge transaction however much there is to remove."""

from django.db.models import QuerySet

BATCH_SIZE = 1000


def delete_in_batches(queryset: QuerySet, *, batch_size: int = BATCH_SIZE) -> int:
    """Delete every row of ``queryset``, ``batch_size`` primary keys at a time; returns how many
    rows of its model were deleted (rows that cascade with them are not counted)."""
    model = queryset.model
    deleted = 0
    while batch := list(queryset.values_list("pk", flat=True)[:batch_size]):
        deleted += model.objects.filter(pk__in=batch).delete()[1].get(model._meta.label, 0)
    return deleted
