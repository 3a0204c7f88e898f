"""The floor of benchmarks/graphql.py: a bare strawberry echo schema on Starlette, nothing else.

Same caches as the gateway (ParserCache, ValidationCache), no documents, no executors: what a
GraphQL request costs on this stack before flowql does any work. (No `from __future__ import
annotations` here: strawberry resolves these types' annotations from the module's globals.)
"""

import os
from collections.abc import AsyncGenerator

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.type
class Echo:
    id: str
    text: str


@strawberry.input
class EchoInput:
    text: str


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Mutation:
    @strawberry.mutation
    def echo(self, text: str) -> Echo:
        return Echo(id=os.urandom(16).hex(), text=text)

    @strawberry.mutation
    def echo_many(self, data: list[EchoInput]) -> list[Echo]:
        return [Echo(id=os.urandom(16).hex(), text=item.text) for item in data]


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def count(self, n: int) -> AsyncGenerator[Echo, None]:
        for index in range(n):
            yield Echo(id="", text=str(index))


def create_floor_app() -> Starlette:
    schema = strawberry.Schema(
        Query, Mutation, Subscription, extensions=[lambda: ParserCache(1024), lambda: ValidationCache(1024)]
    )
    view = GraphQL(schema)
    return Starlette(routes=[Route("/graphql", view), WebSocketRoute("/graphql", view)])
