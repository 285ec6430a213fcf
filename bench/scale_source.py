"""Generated `.wf` sources of a given size, for the scale bench and the big-file tests.

Each block declares a workflow with stages, f-strings, a loop, a parallel
fan-out, a try/catch and policies, a router and a saga, with names unique to
the block, so a source of any size checks and compiles cleanly.
"""

from __future__ import annotations

HEADER = "use bench_handlers as h\n\nconst LIMIT = 4\n\npolicy api {\n    retry(attempts: 3, delay: 100ms)\n    timeout(2s)\n}\n"

BLOCK = """
workflow flow{n}(items: list, name: str = "x") {{
    "Block {n}: every common construct once."
    require len(items) > 0 else f"flow{n} needs items, got {{len(items)}}"
    stage fetch {{
        data = h.parse(name) with api
        label = f"{{name}}-{n}: {{data}}"
    }}
    total = 0
    for item in items {{
        if item > LIMIT {{
            total = total + item
        }} elif item == 0 {{
            continue
        }} else {{
            total = total - 1
        }}
    }}
    scored = parallel for item in items limit 4 on error skip {{
        yield h.score(item)
    }}
    try {{
        checked = h.validate(total)
    }} catch ValueError as e {{
        checked = f"invalid: {{e}}"
    }}
    return {{label: label, total: total, scored: scored, checked: checked}}
}}

router route{n}(kind: str) {{
    route urgent when kind == "urgent" priority 10 -> flow{n}([1, 2, 3])
    route later when kind in ["later", "soon"] -> "later"
    default -> null
}}

saga book{n}(order: str) {{
    step held = h.enrich(order) compensate h.dedupe(held)
    step paid = h.rank(order) with retry(attempts: 2) compensate h.tag(paid)
    return [held, paid]
}}
"""


def make_source(lines: int) -> str:
    """A module of about `lines` lines (never fewer)."""
    per_block = BLOCK.count("\n")
    blocks = max(1, -(-(lines - HEADER.count("\n")) // per_block))
    return HEADER + "".join(BLOCK.format(n=n) for n in range(blocks))
