"""Policies -> one module-level `_wf.Guard` per site, and the calls that run through it."""

from __future__ import annotations

from typing import Iterable

from ..check import Resolution
from ..check.resolution import GuardSpec, PolicySpec
from ..syntax import ast
from ..syntax.names import py_literal, py_name

# Policy kind -> the runtime class its options build.
_CLASSES = {"retry": "Retry", "breaker": "Breaker", "limit": "Limit",
            "idempotent": "Idempotent", "fallback": "Fallback"}


def guard_names(module: ast.Module, res: Resolution) -> dict[ast.Node, str]:
    """A name for every site with policies, numbered in source order."""
    sites = (node for node in ast.walk(module) if node in res.guards)
    return {site: f"_wf_guard{number}" for number, site in enumerate(sites, 1)}


def shared_policies(sites: Iterable[GuardSpec]) -> dict[PolicySpec, str]:
    """Names for the policy objects of `policy` blocks that sites use: each is
    emitted once (`_wf_policy_upstream_retry = _wf.Retry(...)`) and shared by the sites."""
    names: dict[PolicySpec, str] = {}
    for spec in sites:
        for policy in spec.policies:
            if policy.shared is not None and policy.kind in _CLASSES and policy.kind != "fallback":
                names.setdefault(policy, f"_wf_policy_{py_name(policy.shared)}_{policy.kind}")
    return names


def shared_definitions(shared: dict[PolicySpec, str], exception_code) -> list[str]:
    return [f"{name} = {_policy_code(policy, exception_code)}" for policy, name in shared.items()]


def guard_definition(name: str, spec: GuardSpec, exception_code,
                     shared: dict[PolicySpec, str]) -> str:
    """`_wf_guardN = _wf.Guard(...)`: the site's policies, built once at import."""
    parts = [py_literal(spec.target), py_literal(spec.location)]
    if not spec.step:
        parts.append("step=False")
    for policy in spec.policies:
        code = shared.get(policy) or _policy_code(policy, exception_code)
        parts.append(f"{policy.kind}={code}")
    if spec.get("idempotent") is not None:
        parts.append(f"qualname={py_literal(spec.qualname)}")
    if spec.get("breaker") is not None:
        parts.append(f"breaker_state={py_literal(spec.breaker_state)}")
    if spec.get("limit") is not None:
        parts.append(f"limit_state={py_literal(spec.limit_state)}")
    return f"{name} = _wf.Guard({', '.join(parts)})"


def _policy_code(policy: PolicySpec, exception_code) -> str:
    if policy.kind == "timeout":
        return py_literal(dict(policy.options)["seconds"])
    if policy.kind == "fallback":
        return "_wf.Fallback()" if policy.calls else "_wf.Fallback(calls=False)"
    options = [f"{name}={py_literal(value)}" for name, value in policy.options]
    if policy.exceptions is not None:
        types = [exception_code(dotted) for dotted in policy.exceptions]
        options.append(f"on=({', '.join(types)}{',' if len(types) == 1 else ''})")
    return f"_wf.{_CLASSES[policy.kind]}({', '.join(options)})"
