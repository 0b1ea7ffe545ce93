"""Text every store keeps: PostgreSQL refuses NUL where SQLite would store it, so any text
from outside (alerts, notes, reviews, forms) is checked for it at the edge, with a 422."""

from typing import Annotated

from pydantic import AfterValidator


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000), which gatewatch does not store")
    return value


SafeText = Annotated[str, AfterValidator(no_nul)]
