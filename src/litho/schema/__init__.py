"""The JSON Schema of report.json, shipped with litho (docs/report.md).

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
