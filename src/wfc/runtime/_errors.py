"""The error types that workflows raise and catch."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base class of every error the wf runtime raises on its own."""


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

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        error: BaseException | None = None,
        compensated: list[str] | None = None,
        compensation_errors: list[tuple[str, BaseException]] | None = None,
    ) -> None:
        super().__init__(message)
        self.step = step
        self.error = error
        self.compensated = compensated or []
        self.compensation_errors = compensation_errors or []


ERROR_TYPES: dict[str, type[WorkflowError]] = {
    cls.__name__: cls
    for cls in (
        WorkflowError,
        WorkflowFailed,
        ValidationError,
        CircuitOpen,
        RateLimited,
        SagaFailed,
    )
}
