"""Hypothesis strategies for random, well-formed wf programs and handler scripts.

Programs use the core language: every operator, assignments, if/elif/else, for,
while, repeat, break/continue, stages, parallel blocks and parallel maps,
try/catch, fail/require, wait, emit, handler calls and workflow calls, and
resilience policies (every kind, repeated kinds, named `policy` blocks, keys and
fallbacks) on calls, stages, saga steps and a workflow.
"""

from __future__ import annotations

import builtins
import re

from dataclasses import dataclass, replace

from hypothesis import strategies as st

from wfc.api import analyze
from wfc.diagnostics import CompileError

VARIABLES = ["v0", "v1", "v2", "v3", "on", "step"]  # soft keywords are names too
HANDLERS = ["f0", "f1", "f2"]
EXCEPTIONS = ["ValueError", "KeyError", "ConnectionError"]


class Refused(Exception):
    """The handler module's own error, caught as `h.Refused`: matched by its class, also
    after a journal's replay or a trip through Temporal rebuilt it."""


Refused.__module__ = "wfprop_handlers"  # the module the programs `use`, where it is found
# What handlers may raise: the above, the handler module's own error, and a bare
# BaseException (not an Exception), which the step protocol must turn into a
# WorkflowError the same way on both backends.
RAISED = EXCEPTIONS + ["Refused", "BaseException"]


def raised(name: str) -> type[BaseException]:
    """The class a script's `error` names."""
    return Refused if name == "Refused" else getattr(builtins, name)
NAMED_POLICY = "p0"


@dataclass(frozen=True)
class Script:
    """How one handler behaves: sync or async, delay, which calls fail and how."""

    is_async: bool
    delay: float
    fail_on: frozenset[int]  # 1-based call numbers that raise
    error: str
    offset: int


@dataclass(frozen=True)
class Place:
    depth: int = 0
    loop: bool = False  # break/continue allowed
    item: bool = False  # inside a map body: yield allowed, only item variables assigned
    branch: bool = False  # inside a parallel branch
    targets: tuple[str, ...] = tuple(VARIABLES)
    readable: tuple[str, ...] = tuple(VARIABLES)
    calls: bool = True  # may call helper, pick (a router) and order (a saga)
    saga: bool = False  # saga steps may stand here
    machine: bool = False  # `m`, an instance of the generated machine, may be sent events
    policies: bool = True  # `with` clauses may be drawn
    caught: bool = False  # inside a `catch`: `fail` alone raises the caught error again


@dataclass
class Counter:
    n: int = 0

    def next(self) -> int:
        self.n += 1
        return self.n


scripts = st.builds(
    Script,
    is_async=st.booleans(),
    delay=st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.0]),
    fail_on=st.frozensets(st.integers(1, 6), max_size=2),
    error=st.sampled_from(RAISED),
    offset=st.integers(0, 3),
)


def expressions(place: Place, depth: int = 2) -> st.SearchStrategy[str]:
    names = st.sampled_from(place.readable)
    atoms = st.one_of(st.integers(0, 9).map(str), names, st.just("null"), st.just("true"))
    if depth <= 0:
        return atoms
    sub = expressions(place, depth - 1)
    return st.one_of(
        atoms,
        st.tuples(sub, st.sampled_from(["+", "-", "==", "!=", "<", "<=", ">", ">=", "and", "or", "??"]), sub)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(sub, st.sampled_from(["*", "//", "%", "/"]), st.integers(0, 3))
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})"),
        sub.map(lambda e: f"(not {e})"),
        sub.map(lambda e: f"(-{e})"),
        st.just("attempt()"),
        st.tuples(sub, sub).map(lambda t: f"[{t[0]}, {t[1]}, 5][1:]"),
        st.tuples(sub, st.integers(-2, 2)).map(lambda t: f"len(str({t[0]})[:{t[1]}])"),
        sub.map(lambda e: f"matches(str({e}), GLOB)"),  # consts: no quotes to clash with an f-string's
        sub.map(lambda e: f"len(regex(str({e}), DIGITS))"),
        st.tuples(sub, sub).map(lambda t: f"min({t[0]} ?? 0, {t[1]} ?? 1)"),
        st.tuples(sub, sub).map(lambda t: f"[{t[0]}, {t[1]}][1]"),
        sub.map(lambda e: f"{{k: {e}}}.k"),
        sub.map(lambda e: f"{{k: {e}}}?.missing"),
        st.tuples(atoms, atoms).map(lambda t: f"len(f'{{ {t[0]} }}-{{str({t[1]}):>3}}')"),
        st.tuples(sub, sub).map(lambda t: f"{t[0]} in [{t[1]}, 2]"),
        st.tuples(sub, sub).map(lambda t: f"({t[0]} not in [{t[1]}])"),
        st.tuples(st.sampled_from(HANDLERS), sub).map(lambda t: f"h.{t[0]}({t[1]})"),
        *([sub.map(lambda e: f"helper({e})"), sub.map(lambda e: f"pick({e})"),
           sub.map(lambda e: f"order({e})")] if place.calls else []),
    )


def _args(draw, options: dict[str, st.SearchStrategy[str]]) -> str:
    chosen = draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=3))
    return ", ".join(f"{name}: {draw(options[name])}" for name in chosen)


def _exception_list() -> st.SearchStrategy[str]:
    names = EXCEPTIONS + ["h.Refused", "TimeoutError", "CircuitOpen", "RateLimited", "Declined", "Expired"]
    return st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True).map(
        lambda found: "[" + ", ".join(found) + "]")


@st.composite
def policy(draw, place: Place, inline: bool = True, stage: bool = False) -> str:
    """One policy of a random kind and arguments (`key:` only where `inline`)."""
    kind = draw(st.sampled_from(["retry", "retry", "timeout", "breaker", "limit", "idempotent", "fallback"]))
    key = {"key": expressions(replace(place, calls=False), 1)} if inline else {}
    if kind == "retry":
        return "retry(" + _args(draw, {
            "attempts": st.integers(1, 4).map(str), "backoff": st.sampled_from(["exponential", "linear", "fixed"]),
            "delay": st.sampled_from(["0s", "250ms", "1s"]), "max_delay": st.sampled_from(["500ms", "2s"]),
            "factor": st.sampled_from(["1", "2", "3"]), "jitter": st.sampled_from(["0", "0.5"]),
            "max_time": st.sampled_from(["1s", "3s"]), "on": _exception_list()}) + ")"
    if kind == "timeout":
        return f"timeout({draw(st.sampled_from(['250ms', '500ms', '1s', '1500ms', '3s']))})"
    if kind == "breaker" and draw(st.booleans()):  # a failure-rate breaker
        window = draw(st.integers(1, 4))
        rest = _args(draw, {"window": st.just(str(window)), "min_calls": st.integers(1, window).map(str),
                            "reset": st.sampled_from(["1s", "2s"]), "on": _exception_list(), **key})
        rate = draw(st.sampled_from(["0.25", "0.5", "1"]))
        return f"breaker(failure_rate: {rate}{', ' + rest if rest else ''})"
    if kind == "breaker":
        return "breaker(" + _args(draw, {
            "failures": st.integers(1, 3).map(str), "reset": st.sampled_from(["1s", "2s", "5s"]),
            "half_open": st.integers(1, 2).map(str), "successes": st.integers(1, 2).map(str),
            "on": _exception_list(), **key}) + ")"
    if kind == "limit" and draw(st.integers(0, 3)) == 0:  # a bulkhead
        return "limit(concurrent: " + str(draw(st.integers(1, 2))) + ", " + _args(draw, {
            "queue": st.integers(0, 2).map(str), "wait": st.sampled_from(["true", "false"]),
            "max_wait": st.sampled_from(["500ms", "2s"]), **key}).rstrip(", ") + ")"
    if kind == "limit":
        algorithm = draw(st.sampled_from(["token_bucket", "leaky_bucket", "fixed_window", "sliding_window"]))
        options = {"wait": st.sampled_from(["true", "false"]), "max_wait": st.sampled_from(["500ms", "2s"]), **key}
        if "window" not in algorithm:
            options["burst"] = st.integers(1, 3).map(str)
        rest = _args(draw, options)
        rate = draw(st.sampled_from(["1/s", "2/s", "5/s", "60/m"]))
        return f"limit(rate: {rate}, algorithm: {algorithm}{', ' + rest if rest else ''})"
    if kind == "idempotent":
        if stage:  # a stage has no arguments to hash: it needs a key
            ttl = draw(st.sampled_from(["", ", ttl: 1s"]))
            return f"idempotent(key: {draw(key['key'])}{ttl})"
        return "idempotent(" + _args(draw, {"ttl": st.sampled_from(["1s", "1h"]), **key}) + ")"
    values = st.sampled_from(["null", "-1", '"fallback"', *place.readable])
    if stage or draw(st.booleans()):
        return f"fallback(value: {draw(values)})"
    return f"fallback(h.{draw(st.sampled_from(HANDLERS))})"


# The parents, among the types `on:` lists draw, of each: lists sharing a type or a
# type and its parent may not stand on two retries of one call (E0193).
_PARENTS = {"Expired": {"Declined"}}


def _disjoint_retries(items: list[str]) -> list[str]:
    """Drop each retry whose `on` list would overlap an earlier retry's."""
    taken: set[str] = set()
    kept = []
    for item in items:
        if item.startswith("retry(") and "on: [" in item:
            names = set(item.split("on: [", 1)[1].split("]", 1)[0].split(", "))
            lineage = names | {parent for name in names for parent in _PARENTS.get(name, ())}
            if lineage & taken or any(name in _PARENTS.get(other, ()) for name in names for other in taken):
                continue
            taken |= names
        kept.append(item)
    return kept


@st.composite
def with_clause(draw, place: Place, stage: bool = False) -> str:
    """` with ...`: one to three policies, perhaps the named one, or nothing."""
    if not place.policies or draw(st.integers(0, 2)):
        return ""
    items = _disjoint_retries(draw(st.lists(policy(place, stage=stage), min_size=1, max_size=3)))
    if not stage and draw(st.integers(0, 2)) == 0:  # it may hold a keyless `idempotent`
        items.insert(draw(st.integers(0, len(items))), NAMED_POLICY)
    return " with " + ", ".join(items)


@st.composite
def named_policy(draw) -> str:
    items = _disjoint_retries(draw(st.lists(policy(Place(readable=()), inline=False), min_size=1, max_size=3)))
    return f"policy {NAMED_POLICY} {{\n" + "\n".join(items) + "\n}\n"


@st.composite
def statements(draw, place: Place, count: Counter) -> str:
    """One statement valid at `place`."""
    expr = expressions(place)
    choices = ["assign", "assign", "call", "if", "stage", "try", "wait", "emit", "require"]
    if place.depth < 2:
        choices += ["for", "while", "repeat", "parallel", "map", "select"]
    if place.loop:
        choices += ["break", "continue"]
    if place.item:
        choices += ["yield", "yield"]
    if not place.item and not place.branch:
        choices += ["return"]
    if place.saga and not place.item and not place.branch:
        choices += ["step", "step", "step"]
    if place.machine:
        choices += ["send", "send"]
    choices += ["fail"]
    if place.caught:
        choices += ["reraise"]
    kind = draw(st.sampled_from(choices))
    deeper = replace(place, depth=place.depth + 1)

    def block(at: Place, size: int = 3) -> str:
        body = draw(st.lists(statements(at, count), min_size=0, max_size=size))
        return "{\n" + "\n".join(body) + "\n}"

    if kind == "assign":
        if draw(st.integers(0, 2)) == 0:  # a call with policies
            target = draw(st.sampled_from(place.targets))
            # A third of them read the variable they assign, as `doc = h.enrich(doc)` does:
            # a failed attempt must leave it as it was for a `catch` or the next attempt.
            reads_target = target in place.readable and draw(st.integers(0, 2)) == 0
            call = f"h.{draw(st.sampled_from(HANDLERS))}({target if reads_target else draw(expr)})"
            return f"{target} = {call}{draw(with_clause(place))}"
        return f"{draw(st.sampled_from(place.targets))} = {draw(expr)}"
    if kind == "call":
        return f"h.{draw(st.sampled_from(HANDLERS))}({draw(expr)}){draw(with_clause(place))}"
    if kind == "select":  # timers and calls (with random delays and failures) race
        arms = []
        for _ in range(draw(st.integers(1, 3))):
            if draw(st.booleans()):
                # Off the half-second grid of handler delays: a timer never ties with a
                # call, whose order in an exact tie a restarted run cannot reproduce.
                head = f"wait {draw(st.sampled_from(['300ms', '700ms', '1300ms', '2700ms']))}"
            else:
                target = draw(st.sampled_from(("", *(f"{t} = " for t in place.targets))))
                head = f"{target}h.{draw(st.sampled_from(HANDLERS))}({draw(expr)}){draw(with_clause(place))}"
            arms.append(f"{head} {block(deeper, 2)}")
        return "select {\n" + "\n".join(arms) + "\n}"
    if kind == "if":
        text = f"if {draw(expr)} {block(deeper)}"
        if draw(st.booleans()):
            text += f" elif {draw(expr)} {block(deeper)}"
        if draw(st.booleans()):
            text += f" else {block(deeper)}"
        return text
    if kind == "stage":
        when = f" when {draw(expr)}" if draw(st.booleans()) else ""
        guards = draw(with_clause(place, stage=True))
        if guards:  # the body runs as one retried unit: control stays inside it
            deeper = replace(deeper, loop=False, item=False, branch=True, saga=False)
        return f"stage s{count.next()}{guards}{when} {block(deeper)}"
    if kind == "try":
        catches = draw(st.sampled_from(["catch", "catch ValueError", "catch KeyError, ZeroDivisionError",
                                        "catch WorkflowFailed as e", "catch ValidationError",
                                        "catch Declined as e", "catch Expired", "catch h.Refused as e",
                                        "catch h.Refused, KeyError"]))
        catches = catches.replace(" as e", f" as e{count.next()}")
        target = draw(st.sampled_from(place.targets))
        handler = block(replace(deeper, caught=True), 2)[:-1] + f"\n{target} = 100\n}}"
        return f"try {block(deeper)} {catches} {handler}"
    if kind == "wait":
        return f"wait {draw(st.sampled_from(['0ms', '250ms', '1s', '2s']))}"
    if kind == "emit":
        return f"emit topic{draw(st.integers(0, 1))}({draw(expr)})"
    if kind == "require":
        return f'require {draw(expr)} else "requirement {count.next()}"'
    if kind == "fail":
        return draw(st.sampled_from([
            f'fail f"failed {{ {draw(expr)} }}"',
            f'fail Declined(f"declined {{ {draw(expr)} }}", code={draw(expr)})',
            "fail Expired",
        ]))
    if kind == "reraise":
        return "fail"
    if kind == "break":
        return "break"
    if kind == "continue":
        return "continue"
    if kind == "yield":
        return f"yield {draw(expr)}"
    if kind == "return":
        return f"return {draw(expr)}"
    if kind == "send":
        target = draw(st.sampled_from(place.targets))
        return f'{target} = m.send("e{draw(st.integers(0, 2))}", {{k: {draw(expr)}}})'
    if kind == "step":
        name = f"s{count.next()}"
        call = f"h.{draw(st.sampled_from(HANDLERS))}({draw(expr)}){draw(with_clause(place))}"
        undo = draw(st.one_of(st.none(), st.sampled_from(HANDLERS)))
        tail = f"\n    compensate h.{undo}({name}){draw(with_clause(place))}" if undo else ""
        return f"step {name} = {call}{tail}"
    if kind == "for":
        loop_var = f"i{count.next()}"
        inner = replace(deeper, loop=True, readable=place.readable + (loop_var,))
        if not place.item:
            inner = replace(inner, targets=place.targets)
        timeout = draw(st.sampled_from(["", " timeout 1500ms"]))
        where = draw(st.sampled_from(["", f" where {loop_var} != 1"]))
        return f"for {loop_var} in range(({draw(expr)} ?? 0) % 3){where}{timeout} {block(inner)}"
    if kind == "while":
        timeout = draw(st.sampled_from(["", " timeout 1s", " timeout 2500ms"]))
        return (f"while {draw(expr)} max {draw(st.integers(0, 3))}{timeout} "
                f"{block(replace(deeper, loop=True))}")
    if kind == "repeat":
        timeout = draw(st.sampled_from(["", " timeout 1s", " timeout 2500ms"]))
        return (f"repeat max {draw(st.integers(1, 3))}{timeout} {block(replace(deeper, loop=True))} "
                f"until {draw(expr)}")
    if kind == "parallel":
        options = draw(st.sampled_from(["", "limit 1 ", "on error continue ", "timeout 1500ms ",
                                        "limit 2 on error continue ", "first ", "first limit 2 ", "quorum "]))
        branch = replace(deeper, loop=False, item=False, branch=True)
        # A branch waits for the earlier ones whose variables it reads (a dataflow block);
        # a later one never assigns what an earlier one reads, so they never wait in a circle.
        branches, read = [], set()
        for _ in range(draw(st.integers(1, 3))):
            targets = tuple(name for name in branch.targets if name not in read) or (f"p{count.next()}",)
            text = draw(statements(replace(branch, targets=targets), count))
            read |= set(re.findall(r"\b[a-z]\w*\b", text))
            branches.append(text)
        if options == "quorum ":  # K of the branches drawn
            options = f"quorum {draw(st.integers(1, len(branches)))} "
        return f"parallel {options}{{\n" + "\n".join(branches) + "\n}"
    # map: a parallel or sequential `for` whose result is assigned
    loop_var = f"x{count.next()}"
    item_vars = (f"w{count.next()}", f"w{count.next()}")
    inner = Place(depth=place.depth + 1, loop=False, item=True, branch=False,
                  targets=item_vars, readable=place.readable + (loop_var,) + item_vars,
                  calls=place.calls, caught=place.caught)
    head = draw(st.sampled_from(["", "parallel "]))
    options = draw(st.sampled_from(["", "limit 2 ", "on error skip ", "timeout 1500ms "]))
    if head == "" and "limit" in options:
        options = ""
    if draw(st.booleans()):  # a filter
        test = draw(expressions(replace(inner, readable=place.readable + (loop_var,)), 1))
        options = f"where {test} {options}"
    target = draw(st.sampled_from(place.targets))
    loop = f"{target} = {head}for {loop_var} in range({draw(st.integers(0, 4))}) {options}"
    if draw(st.integers(0, 3)) == 0:  # an item that is one step: the runtime's pool makes it
        return f"{loop}{{\nyield h.{draw(st.sampled_from(HANDLERS))}({loop_var})\n}}"
    init = "\n".join(f"{name} = {loop_var}" for name in item_vars)
    return f"{loop}{{\n{init}\n{block(inner)[2:]}"


@st.composite
def routers(draw, count: Counter) -> str:
    """`router pick(a)` with a random strategy, conditions, priorities and targets."""
    strategy = draw(st.sampled_from(["", " all", " weighted"]))
    place = Place(targets=(), readable=("a",), calls=False)
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        parts = ["route"]
        if draw(st.booleans()):
            parts.append(f"r{count.next()}")
        if draw(st.integers(0, 3)):
            parts.append(f"when {draw(expressions(place))}")
        if draw(st.booleans()):
            parts.append(f"priority {draw(st.integers(-2, 3))}")
        if strategy == " weighted" and draw(st.booleans()):
            parts.append(f"weight {draw(st.integers(1, 5))}")
        lines.append(" ".join(parts) + " " + draw(route_targets(place, count)))
    if draw(st.booleans()):
        lines.append("default " + draw(route_targets(place, count)))
    return strategy, lines


def router_text(strategy: str, lines: list[str]) -> str:
    return f"router pick(a){strategy} {{\n" + "\n".join(lines) + "\n}\n"


def without_dead_routes(assemble, strategy: str, lines: list[str]) -> str:
    """The module `assemble` makes of the router, once the routes the checker proves can
    never be chosen (E0146, an error) are left out: both backends can only be compared on
    a program that compiles, and a random router often shadows a route."""
    while True:
        source = assemble(router_text(strategy, lines))
        try:
            analyze(source, "prop.wf")
            return source
        except CompileError as error:
            dead_lines = {d.line for d in error.diagnostics if d.code == "E0146"}
        if not dead_lines:
            return source  # another error: the test reports it
        first = source[: source.index("router pick(a)")].count("\n") + 2  # the first entry's line
        starts = [first + sum(entry.count("\n") + 1 for entry in lines[:n]) for n in range(len(lines))]
        lines = [entry for entry, start in zip(lines, starts) if start not in dead_lines]
        if not any(entry.startswith("route") for entry in lines):
            lines.insert(0, "route -> 0")


@st.composite
def route_targets(draw, place: Place, count: Counter) -> str:
    if draw(st.booleans()):
        return f"-> {draw(expressions(place))}"
    local = f"d{count.next()}"
    inner = replace(place, targets=(local,), readable=place.readable + (local,))
    body = draw(st.lists(statements(inner, count), max_size=2))
    return f"do {{\n{local} = a\n" + "\n".join(body) + f"\nreturn {draw(expressions(inner))}\n}}"


@st.composite
def saga_step(draw, place: Place, count: Counter) -> str:
    name = f"s{count.next()}"
    call = f"h.{draw(st.sampled_from(HANDLERS))}({draw(st.sampled_from(place.readable))})"
    undo = draw(st.sampled_from(HANDLERS))
    return f"step {name} = {call}\n    compensate h.{undo}({name})"


@st.composite
def sagas(draw, count: Counter) -> str:
    """`saga order(a)`: named steps with and without compensations, among statements."""
    locals_ = ("u0", "u1")
    place = Place(targets=locals_, readable=("a",) + locals_, calls=False, saga=True)
    steps = [draw(saga_step(place, count)) for _ in range(draw(st.integers(1, 3)))]
    body = steps + draw(st.lists(statements(place, count), min_size=1, max_size=4))
    unwind = draw(st.sampled_from(["", " unwind(failed_step: true)", " unwind(stop_on_error: true)",
                                   " unwind(failed_step: true, stop_on_error: true)"]))
    return (f"saga order(a){unwind} {{\nu0 = a\nu1 = 0\n" + "\n".join(body)
            + f"\nreturn {draw(expressions(place))}\n}}\n")


@st.composite
def machines(draw, count: Counter, timed: bool = True) -> str:
    """`machine Mach(p)`: random states (compound ones with a history, a parallel one
    with regions), guarded and targetless transitions, `after` timers, an invoked
    handler, actions that update `data` and send events to the machine itself."""
    tops = [f"q{n}" for n in range(draw(st.integers(2, 4)))]
    children = {top: [f"{top}.c{n}" for n in range(draw(st.sampled_from([0, 0, 2, 3])))] for top in tops}
    parallel = draw(st.sampled_from([None, None, *tops[1:]]))
    if parallel is not None:
        children[parallel] = []
    regions = [f"{parallel}.r{n}" for n in range(2)] if parallel else []
    region_states = {region: [f"{region}.s{n}" for n in range(2)] for region in regions}
    final = draw(st.sampled_from([None, *[t for t in tops[1:] if not children[t] and t != parallel]]))
    histories = [f"{top}.h" for top in tops if children[top] and draw(st.booleans())]
    targets = [t for t in tops if t != final] + [c for cs in children.values() for c in cs]
    targets += [s for ss in region_states.values() for s in ss] + histories + ([final] if final else [])
    # At most one state invokes a call, and its arms end in `parked`, a final state: a
    # call that answers at once, entered again on each answer, would never let time pass.
    invoking = draw(st.sampled_from([None, None, *[t for t in targets if t not in histories and t != final]]))
    if not timed:
        invoking = None
    machine = MachineDraw(draw, count, targets, invoking, timed)
    lines = ["data { d: 0, log: [] }", f"initial {tops[0]}"]
    for top in tops:
        if top == final:
            lines.append(f"final state {top} {{\n{machine.members(top, moves=False)}\n}}")
        elif top == parallel:
            inner = [
                f"region {region.rsplit('.', 1)[1]} {{\n"
                + "\n".join(f"state {st_.rsplit('.', 1)[1]} {{\n{machine.members(st_)}\n}}" for st_ in region_states[region])
                + "\n}"
                for region in regions
            ]
            lines.append(f"parallel state {top} {{\n{machine.members(top)}\n" + "\n".join(inner) + "\n}")
        else:
            inner = [f"state {c.rsplit('.', 1)[1]} {{\n{machine.members(c)}\n}}" for c in children[top]]
            if f"{top}.h" in histories:
                inner.append(f"{draw(st.sampled_from(['', 'deep ']))}history h")
            lines.append(f"state {top} {{\n{machine.members(top)}\n" + "\n".join(inner) + "\n}")
    if invoking is not None:
        lines.append("final state parked")
    for n in range(3):  # every event has a transition somewhere: a send of another one is an error
        if f"on e{n}" not in "\n".join(lines):
            lines.append(f"state spare{n} {{\non e{n} -> {tops[0]} when {draw(machine.guard)}\n}}")
    return "machine Mach(p) {\n" + "\n".join(lines) + "\n}\n"


class MachineDraw:
    """The members of one state of a generated machine."""

    def __init__(self, draw, count: Counter, targets: list[str], invoking: str | None, timed: bool) -> None:
        self.draw = draw
        self.timed = timed
        self.count = count
        self.targets = targets
        self.invoking = invoking

        self.guard = st.one_of(
            st.integers(0, 5).map(lambda n: f"(ctx.k ?? 0) > {n}"),
            st.integers(0, 5).map(lambda n: f"p < {n}"),
            st.integers(0, 3).map(lambda n: f"d < {n}"),
            st.just("ctx.k == null"),
        )
        action_place = Place(targets=(), readable=("p", "ctx", "d"), calls=False, policies=False)
        self.action = st.one_of(
            st.sampled_from(HANDLERS).map(lambda h: f"h.{h}(p)"),
            st.sampled_from(HANDLERS).map(lambda h: f"h.{h}(ctx.k)"),
            expressions(action_place, 1).map(lambda e: f"{{\nlocal{count.next()} = {e}\n}}"),
            st.integers(0, 2).map(lambda n: f"{{\nd = d + 1\nsend e{n}\n}}"),
            st.just("{\nlog = log + [d]\n}"),
        )

    def members(self, state: str, moves: bool = True) -> str:
        draw, found = self.draw, []
        for _ in range(draw(st.integers(0, 3)) if moves else 0):
            event = draw(st.sampled_from(["e0", "e1", "e2", "e0", "done.q1", "done.q2"]))
            text = f"on {event}"
            if draw(st.integers(0, 4)):
                text += f" -> {draw(st.sampled_from(self.targets))}"
            if draw(st.booleans()):
                text += f" when {draw(self.guard)}"
            if draw(st.booleans()) or " -> " not in text:
                text += f" do {draw(self.action)}"
            found.append(text)
        if moves and self.timed and draw(st.integers(0, 3)) == 0:
            delay = draw(st.sampled_from(["100ms", "600ms", "1500ms"]))
            found.append(f"after {delay} -> {draw(st.sampled_from(self.targets))}")
        if state == self.invoking:
            handler = draw(st.sampled_from(HANDLERS))
            found.append(f"invoke h.{handler}(d) {{\ndone -> parked do {{\nlog = log + [ctx.result]\n}}\nerror -> parked\n}}")
        for word in ("enter", "exit"):
            if draw(st.integers(0, 3)) == 0:
                found.append(f"{word} do {draw(self.action)}")
        return "\n".join(found)


@st.composite
def programs(draw, timed_machines: bool = True) -> tuple[str, dict[str, Script]]:
    """A module with `main`, `helper`, a router and a saga, and handler scripts."""
    count = Counter()
    policy = draw(named_policy())
    strategy, route_lines = draw(routers(count))
    rest = draw(sagas(count)) + "\n" + draw(machines(count, timed_machines))
    helper_policies = draw(with_clause(Place(readable=("a",))))
    body = draw(st.lists(statements(Place(machine=True), count), min_size=1, max_size=6))
    init = "\n".join(f"{name} = {n}" for n, name in enumerate(VARIABLES))
    init += "\nv1 = pick(v1)\ntry { v2 = order(v2) } catch SagaFailed as failure { v2 = str(failure) }"
    init += "\nm = Mach(v0)"
    def assemble(router: str) -> str:
        return (
            "use wfprop_handlers as h\n\nerror Declined\nerror Expired: Declined\n\n"
            'const GLOB = "*1*"\nconst DIGITS = "[0-9]"\n\n'
            f"workflow helper(a){helper_policies} {{\n    stage inner {{\n        b = h.f0(a)\n    }}\n    return (a ?? 0) + (b ?? 0)\n}}\n\n"
            + policy + "\n" + router + "\n" + rest + "\n"
            f"workflow main() {{\n{init}\n" + "\n".join(body) + "\nreturn [v0, v1, v2, v3, m.state, m.history, m.data]\n}\n"
        )

    source = without_dead_routes(assemble, strategy, route_lines)
    handler_scripts = {name: draw(scripts) for name in HANDLERS}
    return source, handler_scripts
