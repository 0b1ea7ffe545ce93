"""Pieces shared by the payload formats: label sets and Go's zero time.

Constraints are declared, not coded, so pydantic checks them in its compiled core: the
ingest path validates every label of every alert.
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

LabelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
_GO_ZERO_TIME_YEAR = 1


def _zero_time_is_none(value: datetime | None) -> datetime | None:
    """Alertmanager sends Go's zero time (year 1) for "no end yet"."""
    if value is None or value.year == _GO_ZERO_TIME_YEAR:
        return None
    return value.astimezone(UTC)


LabelSet = Annotated[dict[LabelName, str], Field(min_length=1)]
AnnotationSet = dict[LabelName, str]
Timestamp = Annotated[AwareDatetime | None, AfterValidator(_zero_time_is_none)]
