"""The README's REST walk-through, read from README.md: the fenced blocks marked `<!-- walkthrough -->`.

Only marked blocks belong to it (other blocks show output, errors or commands that stream); each is
(heading, language, text), in the README's order, so a test can run them as a reader would.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
MARK = "<!-- walkthrough -->"
_BLOCK = re.compile(r"^<!-- walkthrough -->\n```(\w+)\n(.*?)^```$", re.M | re.S)
_HEADING = re.compile(r"^#{2,4} (.+)$", re.M)


@dataclass(frozen=True)
class Step:
    heading: str
    language: str
    text: str

    def __str__(self):
        return f"{self.heading} ({self.language})"


def walkthrough_steps(text=None):
    text = README.read_text() if text is None else text
    steps = []
    for block in _BLOCK.finditer(text):
        headings = _HEADING.findall(text, 0, block.start())
        steps.append(Step(headings[-1] if headings else "", block.group(1), block.group(2)))
    return steps


def step_with(steps, needle):
    """The one step whose text contains `needle`."""
    found = [s for s in steps if needle in s.text]
    assert len(found) == 1, f"{len(found)} walk-through steps contain {needle!r}"
    return found[0]


def spec_json(steps):
    """The spec the walk-through writes to spec.json (its heredoc)."""
    block = step_with(steps, "cat > spec.json").text
    return json.loads(re.search(r"<<'JSON'\n(.*?)\nJSON\n", block, re.S).group(1))


def patch_example(steps):
    """(merge patch body, the phase and revision the README shows after it) of the PATCH step."""
    block = step_with(steps, "-X PATCH").text
    body = json.loads(re.search(r"-d '([^']+)'", block).group(1))
    shown = block[block.index("# 200 "):]
    phase = re.search(r'"phase": "(\w+)"', shown).group(1)
    revision = int(re.search(r'"revision": (\d+)', shown).group(1))
    return body, phase, revision
