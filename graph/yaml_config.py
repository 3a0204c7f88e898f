"""Flow YAML: `jtype: Flow`, `with:` (the `Flow(...)` keywords) and `executors:` (each entry the `.add()` keywords).

```yaml
jtype: Flow
with:
  protocol: grpc
  port: 12345
executors:
  - name: myexec1
    uses: MyExecutor
    replicas: 2
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from flowql._exceptions import ConfigurationError

__all__ = ["FlowDocument", "GATEWAY_PATH_SETTINGS", "is_yaml_path", "read_flow_yaml", "write_flow_yaml"]

_TOP_LEVEL_KEYS = {"jtype", "version", "with", "executors"}
_YAML_SUFFIXES = (".yml", ".yaml")
# Gateway settings under `with:` that name files or folders.
GATEWAY_PATH_SETTINGS = ("static_dir", "ssl_certfile", "ssl_keyfile")


def is_yaml_path(text: str) -> bool:
    """Whether a `uses` or Flow source string names a YAML file (one line ending in .yml/.yaml), not inline YAML."""
    return "\n" not in text and text.endswith(_YAML_SUFFIXES)


@dataclass
class FlowDocument:
    """A parsed Flow YAML: the Flow's keywords and each executor's `.add()` keywords, in order."""

    flow_options: dict[str, Any] = field(default_factory=dict)
    executors: list[dict[str, Any]] = field(default_factory=list)


def read_flow_yaml(source: str | os.PathLike[str]) -> FlowDocument:
    """Parse a Flow YAML file, or a YAML string; relative paths in it are taken from the file's folder.

    That covers executors' `uses: x.yml` and `py_modules` (when the file is there) and the gateway's
    `static_dir`, `ssl_certfile` and `ssl_keyfile` under `with:`. In a YAML string they stay as written.
    """
    text, folder = _read(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"the Flow YAML is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError("a Flow YAML is a mapping with `jtype: Flow`, `with:` and `executors:`")
    unknown = set(data) - _TOP_LEVEL_KEYS
    if unknown:
        known = sorted(_TOP_LEVEL_KEYS)
        raise ConfigurationError(f"unknown top-level key(s) {sorted(unknown)} in the Flow YAML; known: {known}")
    if data.get("jtype", "Flow") not in ("Flow", "AsyncFlow"):
        raise ConfigurationError(f"a Flow YAML says `jtype: Flow`, not {data.get('jtype')!r}")
    flow_options = data.get("with") or {}
    if not isinstance(flow_options, dict):
        raise ConfigurationError("`with:` of a Flow YAML is a mapping of Flow settings (port, protocol, ...)")
    if data.get("jtype") == "AsyncFlow":
        flow_options = {**flow_options, "asyncio": True}
    entries = data.get("executors") or []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ConfigurationError("`executors:` of a Flow YAML is a list of mappings, one per executor")
    executors = [_resolve_paths(dict(entry), folder) for entry in entries]
    return FlowDocument(flow_options=_resolve_gateway_paths(dict(flow_options), folder), executors=executors)


def _read(source: str | os.PathLike[str]) -> tuple[str, Path | None]:
    if isinstance(source, os.PathLike):
        path = Path(source)
        return path.read_text(), path.resolve().parent
    if is_yaml_path(source):
        path = Path(source)
        if not path.is_file():
            raise ConfigurationError(f"no Flow YAML file at {source!r}")
        return path.read_text(), path.resolve().parent
    if "\n" not in source and os.path.isfile(source):
        return Path(source).read_text(), Path(source).resolve().parent
    return source, None


def _resolve_gateway_paths(options: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    # Like `py_modules`, `static_dir: web` means the folder beside the YAML, from any working directory.
    # Unlike them it is resolved even when nothing is there yet (a certificate made later): the
    # gateway reports a missing file itself, naming the full path.
    if folder is None:
        return options
    for key in GATEWAY_PATH_SETTINGS:
        value = options.get(key)
        if isinstance(value, str) and value:
            options[key] = str(folder / os.path.expanduser(value))
    return options


def _resolve_paths(entry: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    # `uses: exec.yml` and `py_modules: exec.py` next to the Flow YAML work from any working directory.
    if folder is None:
        return entry
    uses = entry.get("uses")
    if isinstance(uses, str) and is_yaml_path(uses) and not os.path.isabs(uses):
        candidate = folder / uses
        if candidate.is_file():
            entry["uses"] = str(candidate)
    modules = entry.get("py_modules")
    if isinstance(modules, str):
        modules = [modules]
    if isinstance(modules, list):
        entry["py_modules"] = [
            str(folder / m) if isinstance(m, str) and not os.path.isabs(m) and (folder / m).is_file() else m
            for m in modules
        ]
    return entry


def write_flow_yaml(path: str | os.PathLike[str], document: FlowDocument) -> None:
    """Write a Flow YAML that `read_flow_yaml` turns back into the same document (an AsyncFlow as `asyncio: true`)."""
    data: dict[str, Any] = {"jtype": "Flow"}
    if document.flow_options:
        data["with"] = document.flow_options
    data["executors"] = document.executors
    try:
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"the Flow holds values YAML cannot represent: {exc}") from exc
    Path(path).write_text(text)
