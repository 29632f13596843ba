"""Every fenced shell command of the README runs as written, and transcripts show its real output.

Each `## section` of the README starts from a fresh clone: a temp folder whose code, scripts, sample
and gold labels are links to this repository and whose data/ is otherwise empty, so `--db`, `--out`
and every other default (data/stackmine.duckdb, data/report, data/raw) land in the temp folder; commands of one
section run in order in the same clone. A command runs with `.venv/bin` first on PATH, as if the
venv were activated. Network and servers stay on this machine: the archive.org mirror is replaced
by a local HTTP mirror (tests/support/rangeserver.py) holding real archives and their SHA256SUMS;
`prefect server start` gets a free port instead of 4200. `make test` is skipped (it is what runs
this); commands reading ../shared skip when it is absent.

In a transcript (`$ command` lines followed by output), the output must appear as printed: lines
are compared exactly except for durations (`12.3 s`, `(45.6 MB/s)`), and a `...` line stands for
lines left out. A command the test does not know how to run fails it, so a new README command
needs a line here, and a changed one shows up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support import REPO, SAMPLE, SHARED, TEST_DATA
from tests.support.procs import free_port, kill_group
from tests.support.rangeserver import RangeServer

README = REPO / "README.md"
BIN = REPO / ".venv" / "bin"
MIRROR = "https://archive.org/download/stackexchange"
PREFECT_PORT = "4200"
# What a README shell line may start with; a fenced block whose first line starts otherwise is not shell.
STARTERS = ("$ ", "make ", "stackmine ", ".venv/bin/", "scripts/", "bash ", "mkdir ", "head ", "cp ")
# Links in a clone: everything of the repository a command may read; data/ holds only the sample.
CLONE_LINKS = ("Makefile", "requirements.lock", "pyproject.toml", ".venv", "pipeline", "flows", "queries",
               "scripts", "bench", "docs", "tests", "README.md")
# Copied, not linked: a notebook's kernel starts in the notebook's folder, and a link would resolve
# to the repository's, whose ../data is not the clone's.
CLONE_COPIES = ("notebooks",)
# data/ after the first `make run` of the session: a later section that starts with `make run` starts
# from it, so it runs again as a rerun (every step skipped) instead of mining the sample twice.
MADE: dict[str, Path] = {}


@dataclass
class Command:
    """One shell command of the README, the section it is in, and its transcript output (if shown)."""

    section: str
    text: str
    expected: list[str] = field(default_factory=list)


def _strip_comment(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).rstrip()


def readme_commands(text: str) -> list[Command]:
    """The shell commands of the README's fenced blocks, in order."""
    found: list[Command] = []
    section = "top"
    in_block, block = False, []
    for line in text.splitlines():
        if line.startswith("```"):
            if in_block:
                found += _block_commands(section, block)
            in_block, block = not in_block, []
        elif in_block:
            block.append(line)
        elif line.startswith("## "):
            section = line[3:].strip()
    return found


def _block_commands(section: str, lines: list[str]) -> list[Command]:
    code = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not code or not code[0].startswith(STARTERS):
        return []  # a diagram or a listing, not shell
    commands: list[Command] = []
    transcript = any(line.startswith("$ ") for line in lines)
    pending = ""
    for line in lines:
        if transcript and not line.startswith("$ ") and not pending:
            if commands:
                commands[-1].expected.append(line)
            continue
        if not transcript and (not line.strip() or line.lstrip().startswith("#")):
            continue
        body = _strip_comment(line[2:] if line.startswith("$ ") else line)
        if body.endswith("\\"):
            pending += body[:-1].strip() + " "
            continue
        commands.append(Command(section, (pending + body.strip()).strip()))
        pending = ""
    return commands


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))
SECTIONS = list(dict.fromkeys(c.section for c in COMMANDS))


def _normalise(line: str) -> str:
    line = re.sub(r"\(\d[\d,.]* MB/s\)", "(N MB/s)", line)
    return re.sub(r"\b\d+(\.\d+)? s\b", "N s", line).rstrip()


def assert_shows(expected: list[str], output: str, command: str) -> None:
    """The transcript's lines appear in `output` in order; `...` lines stand for lines left out."""
    actual = [_normalise(line) for line in output.splitlines()]
    chunks, chunk = [], []
    for line in expected:
        if line.strip() == "...":
            chunks.append(chunk)
            chunk = []
        else:
            chunk.append(_normalise(line))
    chunks.append(chunk)
    at = 0
    for i, want in enumerate(chunks):
        if not want:
            continue
        starts = [s for s in range(at, len(actual) - len(want) + 1) if actual[s:s + len(want)] == want]
        anchored = i == 0  # no `...` before the first lines: the output starts with them
        assert starts and (not anchored or starts[0] == 0), (
            f"README transcript of `{command}` differs from its output.\nREADME:\n" + "\n".join(want)
            + "\nactual:\n" + "\n".join(actual))
        at = starts[0] + len(want)
    if chunks[-1] and at != len(actual):
        raise AssertionError(f"`{command}` printed more than the README shows:\n" + "\n".join(actual[at:]))


class Clone:
    """A fresh clone for one README section, and the servers its commands started."""

    def __init__(self, root: Path) -> None:
        self.root = root / "stackmine"
        self.root.mkdir()
        for name in CLONE_LINKS:
            (self.root / name).symlink_to(REPO / name)
        for name in CLONE_COPIES:
            shutil.copytree(REPO / name, self.root / name)
        (self.root / "data").mkdir()
        (self.root / "data" / "sample").symlink_to(SAMPLE)
        (self.root / "data" / "gold").symlink_to(REPO / "data" / "gold")  # the bundled gold labels
        if SHARED.is_dir():
            (root / "shared").symlink_to(SHARED)  # ../shared, as on a team machine
        # not Prefect's settings of this session, nor the outer `make test`'s (a make inside a make
        # prints "Entering directory" lines the user never sees)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("PREFECT_") and k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}
        self.env.update(PATH=f"{BIN}:{os.environ['PATH']}", PREFECT_HOME=str(root / "prefect-home"),
                        PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
        self.port = str(free_port())
        self.mirror: RangeServer | None = None
        self.background: list[subprocess.Popen] = []

    def shell(self, command: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=self.root, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, command: str) -> subprocess.Popen:
        log = (self.root.parent / f"background-{len(self.background)}.log").open("w")
        proc = subprocess.Popen(["bash", "-c", command], cwd=self.root, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.background.append(proc)
        return proc

    def local(self, command: str) -> str:
        """The command with the network replaced by this machine: the local mirror, a free port."""
        if MIRROR in command:
            command = command.replace(MIRROR, self.serve_mirror(command))
        return command.replace(f"127.0.0.1:{PREFECT_PORT}", f"127.0.0.1:{self.port}")

    def serve_mirror(self, command: str) -> str:
        """A local mirror with a real archive for every site the command names, and their SHA256SUMS
        (also written into the clone, for a command that names a local SHA256SUMS)."""
        if self.mirror is None:
            import py7zr

            folder = self.root.parent / "mirror"
            folder.mkdir()
            for site in sorted(set(re.findall(r"\b([a-z]+(?:\.[a-z]+)*\.(?:com|net))\b", command))):
                if site == "ai.stackexchange.com":
                    shutil.copyfile(SAMPLE / f"{site}.7z", folder / f"{site}.7z")
                else:  # real rows of a small site, packed as this site's archive
                    with py7zr.SevenZipFile(folder / f"{site}.7z", "w") as archive:
                        archive.write(TEST_DATA / "datascience.meta.stackexchange.com" / "Posts.xml", "Posts.xml")
            sums = subprocess.run(["sha256sum", *sorted(p.name for p in folder.glob("*.7z"))], cwd=folder,
                                  capture_output=True, text=True, check=True).stdout
            (folder / "SHA256SUMS").write_text(sums)
            (self.root / "SHA256SUMS").write_text(sums)
            self.mirror = RangeServer(folder).start()
        return self.mirror.url

    def close(self) -> None:
        for proc in self.background:
            kill_group(proc)
        if self.mirror is not None:
            self.mirror.stop()


def _wait(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def _get(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0


def run_command(clone: Clone, command: Command) -> None:
    """Run one README command in `clone` the way a user would, and check what it shows."""
    text = clone.local(command.text)
    if text == "make test":
        return  # this test is part of `make test`: running it again would recurse
    if "../shared" in text and not SHARED.is_dir():
        return  # the team's gold set: absent on this machine (tests marked `shared` skip the same way)
    if text.startswith(".venv/bin/prefect server start"):
        clone.start(f"{text} --host 127.0.0.1 --port {clone.port}")
        _wait(lambda: _get(f"http://127.0.0.1:{clone.port}/api/health") == 200, 180, "the Prefect server")
        return
    if text.startswith((".venv/bin/stackmine serve", "stackmine serve")):
        clone.start(text)
        name = re.search(r"--name (\S+)", text)
        deployment = f"http://127.0.0.1:{clone.port}/api/deployments/name/practice-mining/{name.group(1) if name else 'weekly'}"
        _wait(lambda: _get(deployment) == 200, 180, f"`{text}` to register its deployment")
        return
    if text.startswith("scripts/check_report.py") and not shutil.which("chromium"):
        return  # needs Chromium (apt-get install chromium); test_report's browser check skips the same way
    if text == "make run":
        if subprocess.run(["make", "-q", "install"], cwd=REPO).returncode != 0:
            pytest.skip("the venv is older than requirements.lock: run `make install` (make run would reinstall)")
        if "data" in MADE and not command.expected:
            shutil.copytree(MADE["data"], clone.root / "data", dirs_exist_ok=True, symlinks=True,
                            ignore=shutil.ignore_patterns("sample", "gold"))  # both links made by the clone
    done = clone.shell(text)
    if text == "make run" and done.returncode == 0:
        MADE.setdefault("data", clone.root.parent / "made-data")
        if not MADE["data"].exists():
            shutil.copytree(clone.root / "data", MADE["data"], symlinks=True)
    failing = bool(command.expected) and command.expected[0].startswith("error:")
    assert (done.returncode != 0) == failing, f"`{command.text}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    if command.expected:
        assert_shows(command.expected, done.stderr if failing else done.stdout, command.text)


def test_the_readme_has_shell_commands_in_every_kind_of_block() -> None:
    texts = [c.text for c in COMMANDS]
    assert "make run" in texts and "make test" in texts
    assert "stackmine ingest data/sample" in texts
    assert any(t.startswith("stackmine acquire") and "--mirror" in t for t in texts)  # a continued line, joined
    assert all(not t.endswith("\\") for t in texts)
    quick = [c for c in COMMANDS if c.text == "stackmine text"]
    assert quick and quick[0].expected  # a transcript's output is kept with its command


def test_every_script_the_readme_runs_directly_is_executable() -> None:
    """A script the README runs as `scripts/x.py ARGS` (in a code span with arguments, or on a line
    of a fenced block) needs the run bit and a shebang; `python scripts/x.py` and `bash x.sh` the file."""
    text = README.read_text(encoding="utf-8")
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    fenced = [line.removeprefix("$ ") for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.S)
              for line in block.splitlines()]
    runs = [c.strip() for c in spans if " " in c.strip()] + [line.strip() for line in fenced]
    direct = {c.split()[0] for c in runs if re.match(r"(scripts|bench)/\S+ ", c + " ")}
    via = set(re.findall(r"(?:python|bash) ((?:scripts|bench)/[\w.-]+)", " ".join(runs)))
    assert "scripts/check_report.py" in direct
    for name in direct:
        path = REPO / name
        assert path.is_file() and os.access(path, os.X_OK), f"{name}: the README runs it directly but it is not executable"
        assert path.read_bytes().startswith(b"#!"), f"{name}: no shebang line"
    for name in via:
        assert (REPO / name).is_file(), name


def test_transcripts_compare_exactly_but_for_durations() -> None:
    assert_shows(["a", "parsed in 0.6 s (22.9 MB/s)", "...", "z"], "a\nparsed in 1.2 s (3.1 MB/s)\nb\nz", "x")
    with pytest.raises(AssertionError, match="differs"):
        assert_shows(["a", "b"], "a\nc", "x")
    with pytest.raises(AssertionError, match="more than the README shows"):
        assert_shows(["a"], "a\nb", "x")


@pytest.mark.slow
@pytest.mark.parametrize("section", SECTIONS)
def test_readme_section_commands_run_as_written(section: str, tmp_path: Path) -> None:
    clone = Clone(tmp_path)
    commands = [c for c in COMMANDS if c.section == section]
    try:
        for i, command in enumerate(commands):
            if not command.expected and any(c.text == command.text and c.expected for c in commands[i + 1:]):
                continue  # shown again below with its output (`make run`): run it there, on a fresh clone
            run_command(clone, command)
    finally:
        clone.close()
