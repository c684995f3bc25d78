"""The endpoint of the collector's hot reads, resolved once per client and kept.

botocore resolves a call's endpoint afresh for every call: it copies the
client's builtins (region, FIPS, dual-stack, endpoint URL), fires
`before-endpoint-resolution`, walks the ruleset's parameters against the
operation's context parameters, then asks its rules engine (which it caches)
and rebuilds the answer. For DescribeServices, GetMetricData and the like none
of it depends on the call's parameters: these operations have no context
parameters, so the endpoint is a function of the client and the builtins alone.

`memo_endpoints` keeps that answer per (operation, builtins the ruleset reads).
Every call still fires `before-endpoint-resolution` with the arguments botocore
gives, through botocore's own code; a handler that changes a builtin gets its
own resolution (and the event is not fired twice). A ruleset that reads a
builtin computed per call (the account id) or registers a feature id per call,
and every other operation, is resolved as botocore resolves it.

The private parts used (the client's `_ruleset_resolver`, the resolver's
`_builtins`, `_param_definitions` and `_get_customized_builtins`) are read
here only; `tests/aws/test_endpoints.py` fails loudly when an upgrade moves them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Hashable
from typing import Any

from aiobotocore.regions import AioEndpointRulesetResolver

# Parameters whose value botocore records as a feature id of the call (User-Agent).
_FEATURE_PARAMS = frozenset({"AccountId", "AccountIdEndpointMode"})
_MEMO_SIZE = 64

# The builtins a call's own `before-endpoint-resolution` already produced, for
# the one resolution of a memo miss (so that the event fires once per call).
_GIVEN: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar(
    "heartbeat_endpoint_builtins", default=None
)


class _MemoResolver(AioEndpointRulesetResolver):  # type: ignore[misc]  # aiobotocore is untyped
    """aiobotocore's resolver, with the answers for `_heartbeat_operations` kept."""

    _heartbeat_operations: frozenset[str]
    _heartbeat_builtins: tuple[Any, ...]
    _heartbeat_memo: dict[Hashable, Any]
    _heartbeat_keys: dict[str, Hashable | None]

    async def _get_customized_builtins(self, operation_model: Any, call_args: Any, request_context: Any) -> Any:
        given = _GIVEN.get()
        if given is not None:
            _GIVEN.set(None)
            return given
        return await super()._get_customized_builtins(operation_model, call_args, request_context)

    async def construct_endpoint(self, operation_model: Any, call_args: Any, request_context: Any) -> Any:
        if operation_model.name not in self._heartbeat_operations:
            return await super().construct_endpoint(operation_model, call_args, request_context)
        call_args = {} if call_args is None else call_args
        request_context = {} if request_context is None else request_context
        # botocore's event, with botocore's arguments, once per call.
        builtins = await super()._get_customized_builtins(operation_model, call_args, request_context)
        key = self._key(operation_model.name, builtins)
        found = self._heartbeat_memo.get(key) if key is not None else None
        if found is None:
            token = _GIVEN.set(builtins)
            try:
                found = await super().construct_endpoint(operation_model, call_args, request_context)
            finally:
                _GIVEN.reset(token)
            if key is not None and len(self._heartbeat_memo) < _MEMO_SIZE:
                self._heartbeat_memo[key] = found
        # A headers dict of its own per call, as botocore gives.
        return found._replace(headers=dict(found.headers))

    def _key(self, operation: str, builtins: dict[Any, Any]) -> Hashable | None:
        """(operation, the builtins the ruleset reads); None when one is computed per call."""

        if builtins == self._builtins:  # no handler changed them: the usual case, its key known
            key = self._heartbeat_keys.get(operation, False)
            if key is False:
                key = self._heartbeat_keys[operation] = self._computed_key(operation, builtins)
            return key
        return self._computed_key(operation, builtins)

    def _computed_key(self, operation: str, builtins: dict[Any, Any]) -> Hashable | None:
        values = tuple(builtins.get(name) for name in self._heartbeat_builtins)
        if any(callable(value) for value in values):
            return None
        try:
            hash(values)
        except TypeError:
            return None
        return (operation, values)


def _plain_operation(model: Any) -> bool:
    """True when the operation's parameters play no part in its endpoint."""

    return not (model.static_context_parameters or model.context_parameters or model.operation_context_parameters)


def memo_endpoints(client: Any, operations: tuple[str, ...]) -> bool:
    """Keep the endpoints of `operations` on `client` (those whose endpoint does
    not depend on the call). False when botocore resolves them all as before."""

    resolver: Any = getattr(client, "_ruleset_resolver", None)
    if type(resolver) is not AioEndpointRulesetResolver:  # none, or someone else's
        return False
    definitions = getattr(resolver, "_param_definitions", None)
    if not isinstance(definitions, dict) or not isinstance(getattr(resolver, "_builtins", None), dict):
        return False
    if _FEATURE_PARAMS & set(definitions):
        return False
    model = client.meta.service_model
    plain = frozenset(
        name for name in operations if name in model.operation_names and _plain_operation(model.operation_model(name))
    )
    if not plain:
        return False
    resolver._heartbeat_operations = plain
    resolver._heartbeat_builtins = tuple(d.builtin for d in definitions.values() if d.builtin is not None)
    resolver._heartbeat_memo = {}
    resolver._heartbeat_keys = {}
    resolver.__class__ = _MemoResolver
    return True


__all__ = ["memo_endpoints"]
