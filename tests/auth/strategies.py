"""Hypothesis strategies for users' input: names, passwords, roles, accounts, emails."""

from __future__ import annotations

from hypothesis import strategies as st

EXISTING = "existing-user"

name_chars = st.sampled_from("abcxyz0189._-AZ é/@ \n\t\x00")
usernames = st.one_of(
    st.text(name_chars, min_size=0, max_size=70),
    st.from_regex(r"[a-z0-9._-]{3,12}", fullmatch=True),
    st.just(EXISTING),
    st.text(max_size=20),
)
passwords = st.one_of(st.text(max_size=30), st.text(min_size=12, max_size=40), st.just(EXISTING))
roles = st.one_of(st.sampled_from(["admin", "monitor", "user", "USER", " user ", "root", ""]), st.text(max_size=8))
accounts = st.one_of(
    st.none(),
    st.just(""),
    st.lists(st.from_regex(r"\d{12}", fullmatch=True), max_size=3).map(",".join),
    st.text(st.sampled_from("0123456789, x"), max_size=40),
)
emails = st.one_of(st.none(), st.just(""), st.emails().map(str), st.text(max_size=30))
full_names = st.one_of(st.none(), st.text(max_size=140))
