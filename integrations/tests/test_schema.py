"""The OpenAPI schema: valid, warning-free, every operation described with examples, served to credentials."""

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from integrations.tests.factories import ApiKeyFactory, api_headers

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_spectacular_validates_the_schema_without_warnings(tmp_path: Path) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_the_api_has_the_activities_operation() -> None:
    assert ("/api/activities/", "post") in {(path, method) for path, method, _ in operations()}


def test_every_operation_has_a_description() -> None:
    assert [(path, method) for path, method, operation in operations() if not operation.get("description")] == []


def test_every_request_body_has_examples() -> None:
    missing = [
        (path, method)
        for path, method, operation in operations()
        if "requestBody" in operation
        and not all(media.get("examples") for media in operation["requestBody"]["content"].values())
    ]

    assert missing == []


def test_every_operation_has_a_response_example() -> None:
    missing = [
        (path, method)
        for path, method, operation in operations()
        if not any(
            media.get("examples")
            for response in operation["responses"].values()
            for media in response.get("content", {}).values()
        )
    ]

    assert missing == []


def test_the_schema_is_served_as_json_to_an_api_key() -> None:
    response = Client().get("/api/schema/", headers=api_headers(ApiKeyFactory(scope="capture")))

    assert (response.status_code, response.json()["info"]["title"]) == (200, "Leadsite API")


def test_list_examples_are_a_list_or_a_page_of_items_once() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    wrong = []
    for path, method, operation in operations():
        for status, response in operation.get("responses", {}).items():
            body = response.get("content", {}).get("application/json", {})
            shape = body.get("schema", {})
            shape = components[shape["$ref"].rsplit("/", 1)[1]] if "$ref" in shape else shape
            for name, example in body.get("examples", {}).items():
                value = example["value"]
                if shape.get("type") == "array":
                    items = value if isinstance(value, list) else [None]
                elif "results" in shape.get("properties", {}):
                    items = value.get("results", [None])
                else:
                    continue
                if not all(isinstance(item, dict) and "results" not in item for item in items):
                    wrong.append((path, method, status, name))

    assert wrong == []


def test_every_post_documents_the_idempotency_key_header() -> None:
    undocumented = [
        path
        for path, method, operation in operations()
        if method == "post"
        and not any(
            (parameter["in"], parameter["name"]) == ("header", "Idempotency-Key")
            for parameter in operation.get("parameters", [])
        )
    ]

    assert undocumented == []
