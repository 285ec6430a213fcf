"""Policies in the interpreter: the same `runtime.Guard` the compiled code builds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import runtime
from ..check.resolution import GuardSpec, PolicySpec
from ..syntax import ast


def build_guard(spec: GuardSpec, exception_type: Callable[[ast.Dotted], Any]) -> runtime.Guard:
    """The runtime guard of one site, as `codegen.policies.guard_definition` writes it."""
    policies = {policy.kind: _policy(policy, exception_type) for policy in spec.policies}
    if len(spec.retries()) > 1:  # each governs its own errors
        policies["retry"] = tuple(_policy(policy, exception_type) for policy in spec.retries())
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
    """The runtime class and arguments the checker lowered the policy to."""
    options = dict(policy.options)
    if policy.exceptions is not None:
        options["on"] = tuple(exception_type(dotted) for dotted in policy.exceptions)
    return getattr(runtime, policy.runtime_class)(**options)
