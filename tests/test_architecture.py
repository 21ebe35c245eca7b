"""The layout of the package: layer rules, no cycles, short chains, small modules.

The layer rules themselves are import-linter contracts in ``pyproject.toml``
(see ``docs/architecture.rst``); this module runs them and checks what
import-linter has no contract for, on the same import graph (grimp, which
import-linter is built on). Imports inside functions count like any other.
"""

import ast
import io
import tokenize
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")
importlinter_cli = pytest.importorskip("importlinter.cli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "seqimportance"
SUBPACKAGES = ("cli", "core", "display", "inspection", "keras", "preprocessing")
MAX_CHAIN = 9
MAX_CODE_LINES = 400
MAX_TOP_LEVEL_MODULES = 10


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(
        "seqimportance", include_external_packages=True, cache_dir=None
    )


def _internal_edges(graph):
    modules = {m for m in graph.modules if m.split(".")[0] == "seqimportance"}
    return {
        m: {v for v in graph.find_modules_directly_imported_by(m) if v in modules}
        for m in modules
    }


def _longest_chain(edges):
    """Longest import chain (as a list of modules); raises on a cycle."""
    longest, state = {}, {}

    def visit(module, path):
        if state.get(module) == "open":
            cycle = path[path.index(module):] + [module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module not in longest:
            state[module] = "open"
            chains = [visit(v, path + [module]) for v in sorted(edges[module])]
            longest[module] = [module] + max(chains, key=len, default=[])
            state[module] = "done"
        return longest[module]

    return max((visit(m, []) for m in sorted(edges)), key=len)


def test_import_linter_contracts_hold():
    status = importlinter_cli.lint_imports(
        config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True
    )
    assert status == 0, "an import contract of pyproject.toml is broken (see above)"


def test_imports_inside_functions_are_part_of_the_graph(graph):
    # _delegation imports the wrappers only inside a function; the contracts
    # see that import like a module-level one.
    assert graph.direct_import_exists(
        importer="seqimportance.inspection._delegation",
        imported="seqimportance.keras._wrappers",
    )
    # and the core's imports are really looked at: it imports numpy.
    assert graph.direct_import_exists(
        importer="seqimportance.core._perturbation", imported="numpy"
    )


def test_no_cycle_and_longest_import_chain(graph):
    chain = _longest_chain(_internal_edges(graph))
    assert len(chain) <= MAX_CHAIN, " -> ".join(chain)


def test_longest_chain_finds_cycles_and_depth():
    edges = {"a": {"b"}, "b": {"c"}, "c": set(), "d": {"c"}}
    assert _longest_chain(edges) == ["a", "b", "c"]
    with pytest.raises(AssertionError, match="a -> b -> a"):
        _longest_chain({"a": {"b"}, "b": {"a"}})


def code_lines(source):
    """Lines holding code: docstrings, comments and blank lines aside."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                              ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
            tokenize.DEDENT, tokenize.ENDMARKER}
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def test_code_lines_counts_code_only():
    source = '"""Doc\n\nstring."""\n\n# comment\nx = 1  # trailing\n\n\ndef f():\n' \
             '    """Doc."""\n    return (1,\n            2)\n'
    assert code_lines(source) == 4


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_module_is_small(path):
    assert code_lines(path.read_text()) <= MAX_CODE_LINES


def test_top_level_of_the_package_is_short():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert packages == sorted(SUBPACKAGES)


def test_tests_mirror_the_subpackages():
    # One test folder per subpackage; tests of the package as a whole (the
    # estimator checks, the docs, this file) stay at the top.
    folders = sorted(p.name for p in (ROOT / "tests").iterdir()
                     if p.is_dir() and not p.name.startswith((".", "_")))
    assert folders == sorted(SUBPACKAGES)
