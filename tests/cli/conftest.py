import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("PERSONA_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))


def find_cli():
    exe = os.environ.get("PERSONA_CLI")
    if exe:
        return exe
    for build in ("build", "build-asan"):
        path = os.path.join(ROOT, build, "examples", "cli", "persona")
        if os.access(path, os.X_OK):
            return path
    pytest.skip("persona CLI not built (set PERSONA_CLI)")


class Run:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr


@pytest.fixture
def persona():
    exe = find_cli()

    def run(*args, stdin=None, cwd=None):
        p = subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, cwd=cwd)
        return Run(p)
    return run


@pytest.fixture
def shared_data():
    path = os.path.join(SHARED, "data")
    if not os.path.isdir(path):
        pytest.skip(f"shared data not found at {path}")
    return path
