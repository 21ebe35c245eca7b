"""Documentation stays true: every public name documented, docstrings match signatures."""

import inspect
import re
from pathlib import Path

import pytest

import seqimportance
import seqimportance.datasets
import seqimportance.plotting

numpydoc_validate = pytest.importorskip("numpydoc.validate")

ROOT = Path(__file__).resolve().parents[1]

# Parameter sections: undocumented (PR01), unknown (PR02), wrong order (PR03),
# and "param : type" spacing (PR10).
SIGNATURE_ERRORS = {"PR01", "PR02", "PR03", "PR10"}


def _public_names():
    names = [f"seqimportance.{n}" for n in seqimportance.__all__
             if n not in ("datasets", "__version__")]
    names += [f"seqimportance.datasets.{n}" for n in seqimportance.datasets.__all__]
    names += [f"seqimportance.plotting.{n}" for n in seqimportance.plotting.__all__]
    return names


def _resolve(path):
    obj = seqimportance
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _public_methods():
    """Methods our classes define themselves (not inherited from other packages)."""
    out = []
    for path in _public_names():
        cls = _resolve(path)
        if not inspect.isclass(cls):
            continue
        for name, member in vars(cls).items():
            if name.startswith("_") or not callable(member):
                continue
            if isinstance(member, (staticmethod, classmethod)):
                continue
            if getattr(member, "__module__", "").startswith("seqimportance"):
                out.append(f"{path}.{name}")
    return out


def test_every_public_name_is_in_the_api_reference():
    api = (ROOT / "docs" / "api.rst").read_text()
    for path in _public_names():
        short = path.rsplit(".", 1)[1]
        assert re.search(rf"^\s+{re.escape(short)}$", api, flags=re.M), (
            f"{path} is missing from docs/api.rst"
        )


@pytest.mark.parametrize("path", _public_names() + _public_methods())
def test_docstring_parameters_match_the_signature(path):
    result = numpydoc_validate.validate(path)
    errors = [f"{code}: {msg}" for code, msg in result["errors"]
              if code in SIGNATURE_ERRORS]
    assert not errors, f"{path}: " + "; ".join(errors)


def test_readme_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    fence = lines.index("```")
    assert fence <= 2, "the commands must come right after the title"
    assert lines[fence + 1] == 'pip install ".[plot]" && python -m seqimportance demo'
    assert lines[fence + 2] == 'pip install ".[tests]" && python -m pytest'
    first_test_command = next(line for line in lines
                              if re.match(r"^pip install .*pytest", line))
    assert first_test_command == lines[fence + 2]


def test_docs_figure_and_output_are_committed_files():
    static = ROOT / "docs" / "_static"
    assert (static / "demo_importances.png").read_bytes()[:4] == b"\x89PNG"
    output = (static / "demo_output.txt").read_text()
    assert "x1 / x3" in output and "± " in output
