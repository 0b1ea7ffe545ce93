import pytest

from gatewatch.matchers import MatcherSyntaxError, MatchOp, parse_matcher, parse_matchers


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ('severity="critical"', {"severity": "critical"}, True),
        ('severity="critical"', {"severity": "P1"}, False),
        ('severity!="critical"', {"severity": "P1"}, True),
        ('severity=~"critical|P1"', {"severity": "P1"}, True),
        # Regexes are anchored at both ends, as in Alertmanager.
        ('severity=~"crit"', {"severity": "critical"}, False),
        ('severity!~"crit.*"', {"severity": "critical"}, False),
        # A missing label is the empty string.
        ('team=""', {"severity": "P1"}, True),
        ('team!~".+"', {}, True),
        ("severity=critical", {"severity": "critical"}, True),
    ],
)
def test_matcher_semantics_follow_alertmanager(
    text: str, labels: dict[str, str], expected: bool
) -> None:
    assert parse_matcher(text).matches(labels) is expected


def test_quoted_values_unescape() -> None:
    matcher = parse_matcher(r'summary="say \"hi\", ok"')
    assert matcher.op is MatchOp.EQUAL
    assert matcher.value == 'say "hi", ok'


def test_lists_with_and_without_braces() -> None:
    braced = parse_matchers('{service="im-gateway", severity=~"critical|P1"}')
    bare = parse_matchers('service="im-gateway",severity=~"critical|P1"')
    assert braced == bare
    assert [str(m) for m in braced] == ['service="im-gateway"', 'severity=~"critical|P1"']


@pytest.mark.parametrize(
    "text", ["severity", 'severity=="x"', '="x"', 'a="b" c="d"', '{a="b"', 'a=~"("']
)
def test_invalid_matchers_name_the_problem(text: str) -> None:
    with pytest.raises(MatcherSyntaxError, match="invalid"):
        parse_matchers(text)


@pytest.mark.parametrize(
    "pattern",
    [r'x=~"(a)\\1"', r'x=~"(?=a)a"', r'x=~"(?<!b)a"'],
)
def test_what_re2_cannot_do_is_refused_with_the_reason(pattern: str) -> None:
    with pytest.raises(MatcherSyntaxError, match="RE2 syntax"):
        parse_matcher(pattern)


def test_nested_quantifiers_match_in_linear_time() -> None:
    """`(a+)+b` over a long run of `a` takes a backtracking engine about 2^n steps (years at
    n = 5000); RE2 answers at once. The test would hang before the fix, not fail slowly."""
    matcher = parse_matcher('instance=~"(a+)+b"')
    assert not matcher.matches({"instance": "a" * 5000})
    assert matcher.matches({"instance": "a" * 5000 + "b"})
