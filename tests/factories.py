"""The base of the project's factory_boy factories: calling one is typed as the model instance it makes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from factory.django import DjangoModelFactory

ModelT = TypeVar("ModelT")


class ModelFactory(DjangoModelFactory[ModelT]):
    """A Django model factory that mypy understands: ``ApiKeyFactory()`` is an ``ApiKey``.

    factory_boy types ``create()`` and ``build()`` but not the class call every test uses, so mypy would read
    ``ApiKeyFactory()`` as an instance of the factory class.
    """

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # mypy insists __new__ returns an instance of its own class; factory_boy's returns the model instance.
        def __new__(cls, *args: Any, **kwargs: Any) -> ModelT: ...  # type: ignore[misc]
