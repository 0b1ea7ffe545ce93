from gatewatch.model import fingerprint


def test_fingerprint_ignores_label_order() -> None:
    assert fingerprint({"a": "1", "b": "2"}) == fingerprint({"b": "2", "a": "1"})


def test_fingerprint_separates_names_from_values() -> None:
    # Without separators "ab"+"c" and "a"+"bc" would collide.
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})


def test_empty_label_set_is_the_fnv_offset_basis() -> None:
    # prometheus/common's emptyLabelSignature: FNV-1a 64 of nothing.
    assert fingerprint({}) == "cbf29ce484222325"


def test_fingerprint_is_sixteen_hex_digits() -> None:
    value = fingerprint({"alertname": "IMGatewayServiceDown", "instance": "gw-1:8080"})
    assert len(value) == 16
    int(value, 16)
