"""Query limits from the settings: depth, tokens, aliases, and introspection on/off.

strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter` build a new validation-rule class each
time they are constructed, and extensions are constructed per request; a new rule class per
request would defeat the `ValidationCache` (its key includes the rules). So the rule classes are
built once here, per app, and each request's extension only adds those same classes.
"""

from __future__ import annotations

from collections.abc import Callable

from graphql import ASTValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from flowql.app.settings import GatewaySettings

__all__ = ["limit_extensions"]


def limit_extensions(settings: GatewaySettings) -> list[Callable[[], SchemaExtension]]:
    """Extension factories enforcing the settings' limits (a limit <= 0 is off)."""
    rules: list[type[ASTValidationRule]] = []
    if settings.max_depth > 0:
        rules.append(depth_rule(settings.max_depth, None, None))
    if settings.max_aliases > 0:
        rules.append(aliases_rule(settings.max_aliases))
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    factories: list[Callable[[], SchemaExtension]] = []
    if rules:
        frozen = list(rules)
        factories.append(lambda: AddValidationRules(frozen))
    if settings.max_tokens > 0:
        max_tokens = settings.max_tokens
        factories.append(lambda: MaxTokensLimiter(max_token_count=max_tokens))
    return factories
