"""Policies in the interpreter: the same `runtime.Guard` the compiled code builds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import runtime
from ..check.resolution import GuardSpec, PolicySpec
from ..syntax import ast

_CLASSES: dict[str, Callable[..., Any]] = {
    "retry": runtime.Retry,
    "breaker": runtime.Breaker,
    "limit": runtime.Limit,
    "idempotent": runtime.Idempotent,
}


def build_guard(spec: GuardSpec, exception_type: Callable[[ast.Dotted], Any]) -> runtime.Guard:
    """The runtime guard of one site, as `codegen.policies.guard_definition` writes it."""
    policies = {policy.kind: _policy(policy, exception_type) for policy in spec.policies}
    return runtime.Guard(
        spec.target,
        spec.location,
        step=spec.step,
        qualname=spec.qualname,
        breaker_state=spec.breaker_state,
        limit_state=spec.limit_state,
        **policies,
    )


def _policy(policy: PolicySpec, exception_type: Callable[[ast.Dotted], Any]) -> Any:
    if policy.kind == "timeout":
        return dict(policy.options)["seconds"]
    if policy.kind == "fallback":
        return runtime.Fallback(calls=policy.calls)
    options = dict(policy.options)
    if policy.exceptions is not None:
        options["on"] = tuple(exception_type(dotted) for dotted in policy.exceptions)
    return _CLASSES[policy.kind](**options)
