"""Property: whatever the file holds, loading it gives a Config or one clear
ConfigError line naming the file; never another exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heartbeat_tui.config import ConfigError, FileConfig, dump_toml, parse_config_data, read_config_file

KEYS = st.sampled_from(
    [
        "aws",
        "region",
        "endpoint_url",
        "profile",
        "refresh",
        "interval_seconds",
        "accounts",
        "id",
        "role_arn",
        "external_id",
        "regions",
        "alias",
        "collector",
        "thresholds",
        "ui",
        "theme",
        "history_minutes",
        "jwt_secret",
        "x",
        "",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["210987654321", "us-east-1", "arn:aws:iam::210987654321:role/R", "http://127.0.0.1:1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=20,
)


@given(st.dictionaries(KEYS, VALUES, max_size=6))
@settings(max_examples=300, deadline=None)
def test_any_structure_gives_a_config_or_one_clear_line(data: dict) -> None:
    try:
        result = parse_config_data(data, "fuzz.toml")
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml")
        assert "\n" not in message
        assert "Traceback" not in message
    else:
        assert isinstance(result, FileConfig)


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bytes_give_a_config_or_one_clear_line(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(raw)
    try:
        read_config_file(path)
    except ConfigError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.from_regex(r"\A\d{12}\Z"),
                "regions": st.lists(st.sampled_from(["us-east-1", "eu-west-1"]), min_size=1, max_size=2, unique=True),
            },
            optional={"alias": st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\Z")},
        ),
        max_size=4,
        unique_by=lambda a: a["id"],
    )
)
@settings(max_examples=100, deadline=None)
def test_valid_accounts_round_trip_through_toml(accounts: list[dict]) -> None:
    from heartbeat_tui.config import tomllib

    data = {"aws": {"region": "us-west-2"}, "accounts": accounts}
    parsed = parse_config_data(tomllib.loads(dump_toml(data)), "rt.toml")
    assert [a.id for a in parsed.accounts] == [a["id"] for a in accounts]
    assert [a.regions for a in parsed.accounts] == [tuple(a["regions"]) for a in accounts]
