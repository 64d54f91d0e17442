"""Docs are tested: every setting and every command is documented, and CI runs the README's test
command."""

import re
from pathlib import Path

import typer

from postguard.cli.main import app
from postguard.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _commands(cmd, prefix="postguard"):
    import click

    if isinstance(cmd, click.Group) or hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, f"{prefix} {name}")
    else:
        yield prefix


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`POSTGUARD_{name.upper()}`" in doc, name


def test_every_background_job_is_documented():
    from postguard.jobs import JOBS

    doc = (ROOT / "docs" / "configuration.md").read_text()
    section = doc[doc.index("## Background jobs"):doc.index("## Scaling out")]
    for job in JOBS:
        assert f"| {job.name} |" in section, job.name
        if isinstance(job.every, str):
            assert f"`POSTGUARD_{job.every.upper()}`" in section.split(f"| {job.name} |")[1].split("\n")[0], job.name


def test_every_command_is_documented():
    doc = (ROOT / "docs" / "cli.md").read_text()
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) > 15
    for c in commands:
        assert f"`{c}" in doc, c


def test_readme_opens_with_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(block) == 2 and "serve --demo" in block[0] and "pytest" in block[1]
    assert readme.index("```sh") < 40  # it opens the README
    assert block[1] in (ROOT / ".ci" / "run").read_text()


def test_the_architecture_picture_is_the_code_s_import_graph():
    """docs/architecture.md shows the import graph ``tools/import_graph.py`` draws from the code now."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, str(ROOT / "tools" / "import_graph.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_every_screenshot_is_shown_and_every_shown_screenshot_is_there():
    """docs/screens.md shows each PNG of docs/screens once, each followed by its caption (Vietnamese /
    English), and each PNG is a phone-sized screenshot (390 px wide) of a reasonable size."""
    import struct

    doc = (ROOT / "docs" / "screens.md").read_text()
    shown = re.findall(r"^!\[[^\]]+\]\((screens/[^)]+)\)\n\n(.+)$", doc, re.M)
    assert len(shown) == doc.count("](screens/"), "every image has words for its alt text and a caption"
    files = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs" / "screens").iterdir())
    assert sorted(path for path, _ in shown) == files  # no missing, unlisted or twice-listed screenshot
    for path, caption in shown:
        assert " / " in caption, caption  # Vietnamese / English
        png = (ROOT / "docs" / path).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", path
        width, height = struct.unpack(">II", png[16:24])
        assert width == 390 and height <= 1200 and len(png) < 100_000, (path, width, height, len(png))
