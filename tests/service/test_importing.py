"""``bentoml.importing()``: a missing runtime library is skipped at build time, fatal when serving."""

from __future__ import annotations

import subprocess
import textwrap

import bentotui
from bentotui._process import self_command

SERVICE = textwrap.dedent("""
    import bentotui as bentoml

    with bentoml.importing():
        import no_such_runtime_library  # noqa: F401

    svc = bentoml.Service(name="needs-runtime")

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.Text())
    def echo(text):
        return text
""")


def test_outside_a_server_the_import_error_is_skipped(monkeypatch):
    monkeypatch.delenv("BENTOTUI_SERVING", raising=False)
    with bentotui.importing():
        import no_such_runtime_library  # noqa: F401


def test_a_server_fails_to_start_naming_the_missing_module(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    bento = bentotui.build("service.py:svc", build_ctx=tmp_path)  # build time: skipped
    assert bento.info.service == "service.py:svc"
    done = subprocess.run(
        [*self_command(), "serve", "service.py:svc", "--port", "0"], cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert "no_such_runtime_library" in done.stderr and "Traceback" not in done.stderr
