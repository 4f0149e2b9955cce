"""The JSON Schema of report.json, sweep.json and min_feature.json, shipped with litho (docs/report.md).

One schema file: its root is report.json; ``$defs/sweep`` and
``$defs/min_feature`` are the files of ``litho sweep`` and ``litho min-feature``,
with the same names, units and precision.

>>> from litho.schema import load_report_schema
>>> load_report_schema()["title"]
'litho report.json'
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

REPORT_SCHEMA = "report.schema.json"


@lru_cache(maxsize=1)
def load_report_schema() -> dict:
    """The JSON Schema (draft 2020-12) that every report.json conforms to."""
    return json.loads(resources.files(__name__).joinpath(REPORT_SCHEMA).read_text(encoding="utf-8"))


def validate_report(report: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when ``report`` does not follow the schema."""
    import jsonschema

    jsonschema.Draft202012Validator(load_report_schema()).validate(report)


def block_schema(name: str) -> dict:
    """The schema of one block of :func:`load_report_schema` (``"sweep"``, ``"min_feature"``) as a
    schema of its own (its ``$ref`` resolves within the shipped file's ``$defs``)."""
    schema = load_report_schema()
    if name not in schema["$defs"]:
        raise KeyError(f"schema block {name!r}: the schema has {', '.join(schema['$defs'])}")
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{name}"}


def validate_sweep(document: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when a sweep.json document does not follow the schema."""
    import jsonschema

    jsonschema.Draft202012Validator(block_schema("sweep")).validate(document)


def validate_min_feature(document: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when a min_feature.json document does not follow the schema."""
    import jsonschema

    jsonschema.Draft202012Validator(block_schema("min_feature")).validate(document)
