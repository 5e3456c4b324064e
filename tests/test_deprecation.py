"""Deprecated names keep working for one release and warn with their new place (qdyn.deprecation)."""

import warnings

import pytest

from qdyn import exact, models, operators
from qdyn.deprecation import moved_names, renamed_arguments


def test_a_moved_name_resolves_from_its_old_module_and_names_the_new_one():
    with pytest.warns(DeprecationWarning, match=r"qdyn\.operators\.spectral_bounds has moved to qdyn\.exact"):
        old = operators.spectral_bounds
    assert old is exact.spectral_bounds
    assert old(models.tfim(3), method="pauli") == exact.spectral_bounds(models.tfim(3), method="pauli")
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        operators.nothing_here  # noqa: B018


def test_renamed_arguments_translate_warn_and_refuse_both():
    @renamed_arguments(backend="method", record_states="store_states")
    def solver(x, *, method="exact", store_states=False):
        return x, method, store_states

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert solver(1, method="poly") == (1, "poly", False)  # the new names never warn
    with pytest.warns(DeprecationWarning) as caught:
        assert solver(1, backend="poly", record_states=True) == (1, "poly", True)
    messages = " | ".join(str(w.message) for w in caught)
    assert "solver(backend=...) is deprecated; use method=..." in messages
    assert "solver(record_states=...) is deprecated; use store_states=..." in messages
    with pytest.raises(TypeError, match="got both 'backend' \\(deprecated\\) and 'method'"):
        solver(1, backend="poly", method="exact")


def test_moved_names_refuse_unknown_names():
    getattr_ = moved_names("some.module", {"Old": "qdyn.exact:ground_state"})
    with pytest.warns(DeprecationWarning, match=r"some\.module\.Old has moved to qdyn\.exact\.ground_state"):
        assert getattr_("Old") is exact.ground_state
    with pytest.raises(AttributeError):
        getattr_("Other")
