"""`wfc graph`: diagrams of machines, workflows, routers and sagas."""

from .build import build
from .render import render

__all__ = ["build", "render"]
