"""The submission serializers build their fields once per class: each instance still gets fields of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rest_framework import serializers

from leads.api.serializers import SubmissionCapturedSerializer, SubmissionErrorsSerializer, SubmissionInSerializer


def every_field(field: serializers.Field) -> Iterator[tuple[str, serializers.Field]]:
    """Each field under ``field`` by its path: a serializer's fields, a dict's or list's child, recursively."""
    if isinstance(field, serializers.Serializer):
        for name, each in field.fields.items():
            yield name, each
            yield from ((f"{name}.{path}", inner) for path, inner in every_field(each))
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        yield "child", child
        yield from ((f"child.{path}", inner) for path, inner in every_field(child))


@pytest.mark.parametrize(
    "serializer_class", [SubmissionInSerializer, SubmissionCapturedSerializer, SubmissionErrorsSerializer]
)
def test_every_field_of_a_serializer_belongs_to_that_instance(serializer_class: type[serializers.Serializer]) -> None:
    first = serializer_class()
    fields = list(every_field(first))

    second = serializer_class()
    list(every_field(second))

    assert [path for path, field in fields if field.root is not first] == []


def test_a_field_changed_on_one_serializer_stays_as_declared_on_the_others() -> None:
    first = SubmissionInSerializer()
    first.fields["consent"].fields["given"].required = False

    second = SubmissionInSerializer()

    assert second.fields["consent"].fields["given"].required is True
