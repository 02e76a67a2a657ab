import pytest
from django.contrib.auth.models import User

from core.queries import distinct_values

pytestmark = pytest.mark.django_db


def test_distinct_values_are_a_columns_values_once_each_in_order() -> None:
    for i, name in enumerate(["Bea", "Al", "Bea", "", "Cy", "Al"]):
        User.objects.create(username=f"user{i}", first_name=name)

    assert distinct_values(User, "first_name") == ["", "Al", "Bea", "Cy"]


def test_an_empty_table_has_no_distinct_values() -> None:
    assert distinct_values(User, "first_name") == []
