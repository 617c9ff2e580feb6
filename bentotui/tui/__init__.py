"""The Textual terminal UI.

Only :func:`run_tui` lives here and it imports Textual when called, so ``import bentotui.tui``
(done by the CLI root) costs nothing for ``bentotui --help`` or ``bentotui serve``.
"""

from __future__ import annotations


def run_tui() -> None:
    """Open the app (``bentotui`` with no arguments)."""
    from bentotui.tui.app import BentoApp

    BentoApp().run()
