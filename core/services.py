"""What every write service stands on: one transaction per write (or one for several parts), the
acting user's profile, objects resolved through the actor's scope, and a service's refusal shown
on the form that asked for the write."""

from __future__ import annotations

import contextlib
import contextvars
import functools

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from core.scoping import mark_in_scope, profile_of

_ONE_WRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("one_write", default=False)


class NoProfile(ObjectDoesNotExist):
    """The acting account has no profile (towns: no Cadre), so it cannot write."""


def service_atomic(func):
    """``@transaction.atomic`` for a service that is also a part of bigger writes (the visit log).

    Alone, it is an ordinary atomic block. Inside ``parts_of_one_write()`` it takes no savepoint of
    its own: the caller's transaction is all or nothing, so a savepoint per part bought nothing but
    two statements each.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with transaction.atomic(savepoint=not _ONE_WRITE.get()):
            return func(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def parts_of_one_write():
    """Run several services as parts of one write that the caller rolls back whole on any error.

    A part that refuses (ValidationError, raised before it writes) marks the transaction for
    rollback; the caller that wants to go on collecting the other parts' errors calls
    ``part_refused()`` and must then raise at the end, as the visit log does.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("parts_of_one_write() must run inside the transaction it makes whole")
    token = _ONE_WRITE.set(True)
    try:
        yield
    finally:
        _ONE_WRITE.reset(token)


def part_refused() -> None:
    """After a part's ValidationError inside parts_of_one_write(): keep using the transaction.

    Safe because the refusal was raised in Python, not by the database (whose error would abort the
    transaction anyway), and because the caller raises before committing.
    """
    transaction.set_rollback(False)


def in_scope(model, actor, obj, field: str, label: str):
    """Resolve an object (or id) through the actor's scope; another town's id is refused."""
    if obj is None:
        return None
    # An instance this function already resolved for the same actor needs no second look: the
    # visit log hands one person to five services, each of which would otherwise re-read it.
    if isinstance(obj, model) and getattr(obj, "_nuanxin_scoped_for", None) == actor.pk:
        return obj
    pk = getattr(obj, "pk", obj)
    found = model.objects.for_user(actor).filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: [f"{label}不存在或不在您的管辖范围内"]})
    return mark_in_scope(found, actor)


def actor_profile(actor):
    """The acting user's profile (towns: their Cadre), read once per user object like the scope."""
    profile = profile_of(actor)
    if profile is None:
        raise NoProfile("该账号没有对应的干部信息")
    return profile


def add_service_errors(form, error: ValidationError, *, hidden=()) -> None:
    """Put each of a service's messages beside its form field; the rest (and ``hidden`` fields') above the form."""
    by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for field, messages in by_field.items():
        target = field if field in form.fields and field not in hidden else None
        for message in messages:
            form.add_error(target, message)
