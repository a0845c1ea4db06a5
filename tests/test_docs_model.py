"""docs/model.md's Python blocks run, and print what the page shows under them."""

import contextlib
import io
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "model.md"
# A ```python block, optionally followed directly by the ```text block of what it prints.
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n(?:```text\n(?P<output>.*?)```)?", re.DOTALL)


def blocks():
    found = [
        pytest.param(match["code"], match["output"], id=f"block{index}")
        for index, match in enumerate(BLOCK.finditer(PAGE.read_text()))
    ]
    assert found, f"no Python blocks in {PAGE}"
    return found


@pytest.mark.parametrize(("code", "output"), blocks())
def test_python_block_runs_and_prints_what_the_page_shows(code, output):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(PAGE), "exec"), {"__name__": "docs_model"})
    if output is not None:
        assert printed.getvalue() == output
