"""Query limits from the settings: depth, tokens, aliases, and introspection on/off.

The rules are strawberry's (`QueryDepthLimiter`'s and `MaxAliasesLimiter`'s validators), built
once per app rather than through those extensions: they make a new rule class each time they are
constructed, and extensions are constructed per request, which would defeat the validation cache
(its key includes the rules). `GatewayExtension` adds these same classes to every request.
"""

from __future__ import annotations

from graphql import ASTValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from flowql.app.settings import GatewaySettings

__all__ = ["limit_rules", "token_limit"]


def limit_rules(settings: GatewaySettings) -> tuple[type[ASTValidationRule], ...]:
    """Validation rules enforcing the settings' depth and alias limits and introspection switch.

    A limit <= 0 is off. Call once per app: the same classes must serve every request.
    """
    rules: list[type[ASTValidationRule]] = []
    if settings.max_depth > 0:
        rules.append(depth_rule(settings.max_depth, None, None))
    if settings.max_aliases > 0:
        rules.append(aliases_rule(settings.max_aliases))
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


def token_limit(settings: GatewaySettings) -> int | None:
    """The most tokens a GraphQL document may have (graphql-core stops parsing past it), or None."""
    return settings.max_tokens if settings.max_tokens > 0 else None
