"""Run the >>> examples of every module, so the documented behaviour stays true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import kasuhara_nlp

# Every module of the package (a new one is covered without being listed here); __main__ would run the CLI.
MODULES = sorted(m.name for m in pkgutil.walk_packages(kasuhara_nlp.__path__, "kasuhara_nlp.")
                 if not m.name.endswith("__main__"))


def test_every_module_is_collected() -> None:
    assert {"kasuhara_nlp.blocks", "kasuhara_nlp.readers.vendors", "kasuhara_nlp.routing.policy"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
