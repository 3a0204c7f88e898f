"""Package discovery for the folder mapping in pyproject.toml.

The four runtime folders sit at the top of the repository and install under the one import name
`flowql` (app/ -> flowql.app, ...). setuptools' automatic discovery cannot follow such a mapping,
so the packages are listed here by walking each folder: a new subpackage needs no edit anywhere.
"""

from pathlib import Path

from setuptools import setup

ROOTS = {
    "flowql": "flowql",
    "flowql.app": "app",
    "flowql.graph": "graph",
    "flowql.executors": "executors",
    "flowql.client": "client",
}


def discover() -> tuple[list[str], dict[str, str]]:
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    for package, folder in ROOTS.items():
        for init in sorted(Path(folder).rglob("__init__.py")):
            relative = init.parent.relative_to(folder).parts
            name = ".".join([package, *relative])
            packages.append(name)
            package_dir[name] = str(init.parent)
    return packages, package_dir


packages, package_dir = discover()
setup(packages=packages, package_dir=package_dir)
