"""The fields the neural results had before the one vocabulary, kept one release with a ``DeprecationWarning``."""

from __future__ import annotations

from qdyn.deprecation import warn_deprecated

__all__ = ["DeprecatedNeuralFields"]


class DeprecatedNeuralFields:
    """Mixin for the neural results: ``expect_errors`` (now ``errors``) and ``mode`` (now ``n_samples=None``)."""

    @property
    def expect_errors(self) -> dict:
        """Deprecated name of :attr:`errors`."""
        warn_deprecated(f"{type(self).__name__}.expect_errors is deprecated; use .errors")
        return self.errors

    @property
    def mode(self) -> str:
        """Deprecated: ``"exact"`` when ``metadata.options["n_samples"]`` is None (exact enumeration), else
        ``"sampled"``."""
        warn_deprecated(f"{type(self).__name__}.mode is deprecated; read metadata.options['n_samples'] "
                        "(None: exact)")
        return "exact" if self.metadata.options["n_samples"] is None else "sampled"
