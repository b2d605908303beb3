"""Every schema of the JSON API has a name of its own: OpenAPI keys its components by class name,
so two apps' schemas of one name would leave one of them described wrongly."""

import collections

from ninja import Schema

import onewindow.config.api  # noqa: F401  (imports every app's API)


def _schemas(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found += _schemas(sub)
    return found


def test_no_two_api_schemas_share_a_name():
    ours = [cls for cls in _schemas(Schema) if cls.__module__.startswith("onewindow.")]
    names = collections.defaultdict(set)
    for cls in ours:
        names[cls.__name__].add(cls.__module__)
    assert {name: modules for name, modules in names.items() if len(modules) > 1} == {}
