"""Pieces shared by the payload formats: label sets, annotations, Go's zero time, and the
limits every alert is held to at the edge.

The limits are the same whatever the store: a body SQLite would keep and PostgreSQL would
refuse (a NUL character, a value longer than an indexed column) is a 422 naming the JSON
path on both, never a 500 that Alertmanager retries for ever. Constraints are declared, not
coded, where pydantic can check them in its compiled core: ingest validates every label of
every alert.
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from gatewatch.text import no_nul

MAX_LABEL_NAME = 128
MAX_LABEL_VALUE = 1024
MAX_LABELS = 64
MAX_ANNOTATION_VALUE = 16 * 1024
MAX_ANNOTATIONS = 64
MAX_URL = 4096
# Labels kept in indexed columns of their own (the alert's name, the incident's service).
MAX_INDEXED_VALUE = 255
INDEXED_LABELS = ("alertname", "service", "job")
_GO_ZERO_TIME_YEAR = 1


def _indexed_fit(labels: dict[str, str]) -> dict[str, str]:
    for name in INDEXED_LABELS:
        if len(labels.get(name, "")) > MAX_INDEXED_VALUE:
            raise ValueError(f"label {name!r} is longer than {MAX_INDEXED_VALUE} characters")
    return labels


def _zero_time_is_none(value: datetime | None) -> datetime | None:
    """Alertmanager sends Go's zero time (year 1) for "no end yet"."""
    if value is None or value.year == _GO_ZERO_TIME_YEAR:
        return None
    return value.astimezone(UTC)


LabelName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=MAX_LABEL_NAME)
]
# Lengths before the NUL check: declared on the plain `str`, pydantic checks them in its core;
# after a Python validator they would each be one more Python call per label.
LabelValue = Annotated[str, StringConstraints(max_length=MAX_LABEL_VALUE), AfterValidator(no_nul)]
AnnotationValue = Annotated[
    str, StringConstraints(max_length=MAX_ANNOTATION_VALUE), AfterValidator(no_nul)
]
Url = Annotated[str, StringConstraints(max_length=MAX_URL), AfterValidator(no_nul)]

LabelSet = Annotated[
    dict[LabelName, LabelValue],
    Field(min_length=1, max_length=MAX_LABELS),
    AfterValidator(_indexed_fit),
]
AnnotationSet = Annotated[dict[LabelName, AnnotationValue], Field(max_length=MAX_ANNOTATIONS)]
Timestamp = Annotated[AwareDatetime | None, AfterValidator(_zero_time_is_none)]
