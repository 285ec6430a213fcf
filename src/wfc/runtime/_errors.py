"""The error types that workflows raise and catch."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any


class WorkflowError(Exception):
    """Base class of every error the wf runtime raises, and of the `error` types a
    module declares: `Declined("card refused", code=402)` has `message` "card refused"
    and a field `code` (also in `fields`)."""

    def __init__(self, message: object = "", **fields: object) -> None:
        super().__init__(message)
        self.fields = fields
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class WorkflowFailed(WorkflowError):
    """Raised by `fail EXPR`."""


class ValidationError(WorkflowError):
    """Raised by `require C else EXPR` when C is falsy."""


class CircuitOpen(WorkflowError):
    """Raised when a circuit breaker rejects a call."""


class RateLimited(WorkflowError):
    """Raised when a rate limiter rejects a call."""


class SagaFailed(WorkflowError):
    """Raised when a saga failed and its completed steps were compensated."""

    # Slots, not the instance dict, and the runtime passes them by position: a failed
    # saga's error is made on its failure path, which is measured (bench/saga.py), and
    # the dict's attributes cost twice as much to set.
    __slots__ = ("fields", "step", "error", "compensated", "compensation_errors", "uncompensated")

    def __init__(
        self,
        message: str,
        step: str | None = None,
        error: BaseException | None = None,
        compensated: list[str] | None = None,
        compensation_errors: list[tuple[str, BaseException]] | None = None,
        uncompensated: list[str] | None = None,
    ) -> None:
        self.args = (message,)
        self.fields = {}
        self.step = step
        self.error = error
        self.compensated = [] if compensated is None else compensated
        self.compensation_errors = [] if compensation_errors is None else compensation_errors
        # Steps left as they were: `unwind(stop_on_error: true)` stopped before them.
        self.uncompensated = [] if uncompensated is None else uncompensated

    def __reduce__(self) -> tuple[Any, ...]:
        # Slots are not in the instance dict that exceptions pickle and copy by.
        own = (self.step, self.error, self.compensated, self.compensation_errors, self.uncompensated)
        return type(self), (self.message, *own), self.__dict__ or None


class BranchesFailed(WorkflowError):
    """Raised by `parallel first` when every branch failed, and by `parallel quorum K`
    once K branches can no longer succeed; `errors` holds each failed branch's error,
    in branch order."""

    def __init__(self, message: str, errors: list[BaseException] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


ERROR_TYPES: dict[str, type[WorkflowError]] = {
    cls.__name__: cls
    for cls in (
        WorkflowError,
        WorkflowFailed,
        ValidationError,
        CircuitOpen,
        RateLimited,
        SagaFailed,
        BranchesFailed,
    )
}


def failure(value: object) -> BaseException:
    """What `fail VALUE` raises: an error object (a caught one, or one a declared
    error type made) as it is, an error type as a new one without a message (as
    Python's `raise Type`), anything else as `WorkflowFailed(str(VALUE))`."""
    if isinstance(value, BaseException):
        return value
    if isinstance(value, type) and issubclass(value, BaseException):
        return value()
    return WorkflowFailed(str(value))


def imported_error_class(module: object, qualname: object) -> type[Exception] | None:
    """The Exception class `qualname` of `module` when this process has imported that
    module, else None. Looking a class up never imports code: the name comes from a
    journal or from Temporal, and importing it would run whatever it names."""
    found: Any = sys.modules.get(module) if isinstance(module, str) else None
    for part in str(qualname).split(".") if found is not None else ():
        found = getattr(found, part, None)
    return found if isinstance(found, type) and issubclass(found, Exception) else None


def without_init(kind: type[Exception], args: Sequence[Any]) -> Exception:
    """An instance of `kind` holding `args`, made without its `__init__`: an
    application's error class may take other parameters, or act when it is made."""
    error = kind.__new__(kind, *args)
    error.args = tuple(args)
    return error
