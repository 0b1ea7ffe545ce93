"""Alertmanager matcher syntax: `a="b"`, `a!="b"`, `a=~"re"`, `a!~"re"`, lists in `{…}`.

Regular expressions use RE2, as Alertmanager and Prometheus do: linear time in the input,
no backreferences, so a matcher from a viewer or a config cannot stall the server.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import re2


class MatcherSyntaxError(ValueError):
    """A matcher string is not valid Alertmanager syntax."""


class MatchOp(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_UNQUOTED = r'[^\s,{}"=!~]+'
_MATCHER_RE = re.compile(
    rf"\s*(?P<name>{_NAME}|{_QUOTED})\s*(?P<op>=~|!~|!=|=)\s*(?P<value>{_QUOTED}|{_UNQUOTED})?\s*"
)
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(token: str) -> str:
    if not token.startswith('"'):
        return token
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token[1:-1])


@dataclass(frozen=True)
class Matcher:
    """One label matcher; regexes are anchored at both ends, as in Alertmanager."""

    name: str
    op: MatchOp
    value: str
    _pattern: Any = field(default=None, compare=False, repr=False)  # a compiled RE2

    @classmethod
    def create(cls, name: str, op: MatchOp, value: str) -> "Matcher":
        pattern = None
        if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                pattern = re2.compile(value)
            except re2.error as exc:
                reason = exc.args[0] if exc.args else exc
                if isinstance(reason, bytes):
                    reason = reason.decode(errors="replace")
                raise MatcherSyntaxError(
                    f"invalid regular expression {value!r}: {reason} (RE2 syntax, as in "
                    "Alertmanager: no backreferences or lookarounds)"
                ) from exc
        return cls(name, op, value, pattern)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """A missing label matches as the empty string, as in Alertmanager."""
        actual = labels.get(self.name, "")
        if self.op is MatchOp.EQUAL:
            return actual == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return actual != self.value
        assert self._pattern is not None
        found = self._pattern.fullmatch(actual) is not None
        return found if self.op is MatchOp.REGEX else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op.value}"{escaped}"'


def parse_matcher(text: str) -> Matcher:
    """Parse exactly one matcher such as `severity=~"critical|P1"`."""
    match = _MATCHER_RE.fullmatch(text)
    if not match:
        raise MatcherSyntaxError(
            f'invalid matcher {text!r}: expected name="value" with one of = != =~ !~'
        )
    value = match.group("value") or ""
    return Matcher.create(
        _unquote(match.group("name")), MatchOp(match.group("op")), _unquote(value)
    )


def parse_matchers(text: str) -> list[Matcher]:
    """Parse `{a="b", c=~"d"}` or the same without braces; an empty string matches everything."""
    body = text.strip()
    if body.startswith("{"):
        if not body.endswith("}"):
            raise MatcherSyntaxError(f"invalid matchers {text!r}: missing closing brace")
        body = body[1:-1]
    matchers: list[Matcher] = []
    position = 0
    while position < len(body):
        match = _MATCHER_RE.match(body, position)
        if not match:
            raise MatcherSyntaxError(
                f"invalid matchers {text!r} at character {position + 1}: "
                'expected name="value" with one of = != =~ !~'
            )
        matchers.append(parse_matcher(match.group(0)))
        position = match.end()
        if position < len(body):
            if body[position] != ",":
                raise MatcherSyntaxError(
                    f"invalid matchers {text!r} at character {position + 1}: expected ','"
                )
            position += 1
    return matchers


def match_all(matchers: list[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher accepts the label set."""
    return all(matcher.matches(labels) for matcher in matchers)
