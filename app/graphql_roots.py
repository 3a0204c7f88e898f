"""`RootFields`: the Query, Mutation and Subscription fields of the schema, collected by name.

Two owners for one name (two endpoints mapping to `fooBar`, or an endpoint named `/docs`) fail
the build with a message naming both. Once the schema exists, the document fields get resolvers
that take graphql-core's coerced arguments directly (see `install_raw_resolvers`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from flowql._exceptions import ConfigurationError

__all__ = ["RootFields"]


class RootFields:
    """Root fields by name, refusing two owners for one name."""

    def __init__(self) -> None:
        self.owner: dict[tuple[str, str], str] = {}
        self.fields: dict[str, dict[str, Any]] = {"query": {}, "mutation": {}, "subscription": {}}
        self.resolvers: dict[tuple[str, str], Callable[..., Any]] = {}

    def add(
        self, operation: str, name: str, owner: str, value: Any, resolver: Callable[..., Any] | None = None
    ) -> None:
        key = (operation, name)
        if key in self.owner:
            raise ConfigurationError(
                f"GraphQL field {operation}.{name} is claimed by both {self.owner[key]} and {owner}; "
                "rename one of the endpoints"
            )
        self.owner[key] = owner
        self.fields[operation][name] = value
        if resolver is not None:
            self.resolvers[key] = resolver

    def root(self, operation: str) -> type | None:
        if not self.fields[operation]:
            return None
        cls = type(operation.capitalize(), (), {"__module__": __name__, **self.fields[operation]})
        return strawberry.type(cls, name=operation.capitalize())

    def install_raw_resolvers(self, schema: strawberry.Schema) -> None:
        """Let graphql-core call the document fields' resolvers with its coerced arguments.

        strawberry would first turn every input document into an instance of its input class
        (about a third of a single-document mutation's time); the resolvers read plain dicts as
        well (`graphql_types.input_to_dict`), so the conversion is skipped. The strawberry
        declarations still define the fields' types, arguments and descriptions.
        """
        for (operation, name), resolver in self.resolvers.items():
            root = schema._schema.get_type(operation.capitalize())
            field = root.fields[name]  # type: ignore[union-attr]
            python_names = {to_camel_case(p): p for p in inspect.signature(resolver).parameters if p != "info"}
            if operation == "subscription":
                field.subscribe = _raw_subscribe(resolver, python_names)
            else:
                field.resolve = _raw_resolve(resolver, python_names)


def _raw_resolve(resolver: Callable[..., Any], names: dict[str, str]) -> Callable[..., Any]:
    async def resolve(root: Any, info: Any, **arguments: Any) -> Any:
        return await resolver(info, **{names[key]: value for key, value in arguments.items()})

    return resolve


def _raw_subscribe(resolver: Callable[..., Any], names: dict[str, str]) -> Callable[..., Any]:
    def subscribe(root: Any, info: Any, **arguments: Any) -> Any:
        return resolver(info, **{names[key]: value for key, value in arguments.items()})

    return subscribe
