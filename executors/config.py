"""Executor YAML: `jtype`, `with`, `metas`, `requests`, read from a file, an inline string or a dict.

    jtype: MyExecutor
    with:
      bar: 123
    metas:
      name: awesomeness
      py_modules: myexec.py
    requests:
      /random_work: foo

String values may name environment variables as `${{ ENV.NAME }}`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from flowql._exceptions import ConfigurationError

__all__ = ["ExecutorConfig", "parse_executor_config", "read_executor_yaml", "looks_like_inline_yaml"]

# `py_modules` at the top level is accepted too (the Flow writes `uses=` dicts that way); it joins metas.py_modules.
_KNOWN_KEYS = ("jtype", "with", "metas", "requests", "py_modules")
_ENV_PATTERN = re.compile(r"\$\{\{\s*ENV\.(\w+)\s*\}\}")


@dataclass
class ExecutorConfig:
    """One Executor's configuration as YAML describes it. `jtype` is a class reference or the class itself."""

    jtype: Any = "Executor"
    with_: dict[str, Any] = field(default_factory=dict)
    metas: dict[str, Any] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)
    # Folder that relative `metas.py_modules` paths are taken from (the YAML file's, else the cwd).
    base_dir: str = field(default_factory=os.getcwd)


def parse_executor_config(data: Mapping[str, Any], base_dir: str | None = None) -> ExecutorConfig:
    """Check and normalise an Executor config mapping (YAML already parsed, or a dict given in Python)."""
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"an Executor config must be a mapping with a `jtype`, got {type(data).__name__}")
    unknown = sorted(str(key) for key in data if key not in _KNOWN_KEYS)
    if unknown:
        raise ConfigurationError(f"unknown Executor config key(s) {unknown}; known keys are {list(_KNOWN_KEYS)}")
    data = _substitute_env(dict(data))
    jtype = data.get("jtype") or "Executor"
    sections: dict[str, dict[str, Any]] = {}
    for key in ("with", "metas", "requests"):
        value = data.get(key) or {}
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"`{key}:` of an Executor config must be a mapping, got {value!r}")
        sections[key] = dict(value)
    if data.get("py_modules"):
        listed = _as_list(sections["metas"].get("py_modules")) + _as_list(data["py_modules"])
        sections["metas"]["py_modules"] = listed
    requests: dict[str, str] = {}
    for endpoint, method in sections["requests"].items():
        if not isinstance(method, str):
            raise ConfigurationError(f"`requests:` maps an endpoint to a method name; {endpoint!r} maps to {method!r}")
        requests[str(endpoint)] = method
    return ExecutorConfig(
        jtype=jtype,
        with_=sections["with"],
        metas=sections["metas"],
        requests=requests,
        base_dir=base_dir or os.getcwd(),
    )


def read_executor_yaml(text: str, base_dir: str | None = None) -> ExecutorConfig:
    """Parse Executor YAML text (a file's content or an inline string)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"invalid Executor YAML: {exc}") from exc
    return parse_executor_config(data, base_dir)


def looks_like_inline_yaml(uses: str) -> bool:
    """True for YAML text (`jtype: X` or several lines) rather than a class name or a path."""
    stripped = uses.strip()
    return "\n" in stripped or stripped.startswith("jtype") or ": " in stripped


def _as_list(value: Any) -> list[Any]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def _substitute_env(value: Any) -> Any:
    if isinstance(value, str):
        match = _ENV_PATTERN.fullmatch(value.strip())
        if match:
            # The whole value is one variable: give it the type its text has in YAML (`3` -> 3).
            return yaml.safe_load(_env(match.group(1)))
        return _ENV_PATTERN.sub(lambda m: _env(m.group(1)), value)
    if isinstance(value, dict):
        return {key: _substitute_env(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute_env(item) for item in value]
    return value


def _env(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise ConfigurationError(f"Executor config refers to ${{{{ ENV.{name} }}}} but {name} is not set") from None
