"""The hook contract stays honest: every hook is documented and exercised by a test."""

import inspect
from pathlib import Path

import pytest

from community import hookspecs

HOOKS = sorted(
    name for name, fn in vars(hookspecs).items() if name.startswith("community_") and callable(fn)
)
TESTS = "\n".join(p.read_text() for p in Path(__file__).parent.rglob("*.py"))


def test_there_are_hooks():
    assert "community_permission" in HOOKS and "community_answer_accepted" in HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name):
    function = getattr(hookspecs, name)
    doc = inspect.getdoc(function) or ""
    assert doc, f"{name} has no docstring"
    for parameter in inspect.signature(function).parameters:
        assert f":param {parameter}:" in doc, f"{name} does not document {parameter}"
    assert ":return:" in doc, f"{name} does not say what its return value means"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_exercised_by_a_test(name):
    implementations = TESTS.count(f"def {name}(")
    assert implementations, f"no test plugin implements {name}"
