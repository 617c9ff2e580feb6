"""The ``?`` help screen: the keys that work *here*, read from the live bindings (so a remapped
key shows as remapped), plus a short guide."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

GUIDE = """\
**Areas**: `1` Models, `2` Servers, `3` Requests. `ctrl+p` opens the command palette,
`ctrl+q` quits (servers keep running; the TUI finds them again next time).
Keys can be remapped in `config.yaml` under `keymap:` (`binding-id: keys`).
"""


def bindings_table(screen: Screen[object]) -> str:
    """Markdown tables of the active bindings of ``screen``, one row per action: this screen's
    keys first (what a person opened help for), then the keys that work everywhere, each in
    the order the bindings are declared (the footer's order)."""
    local: dict[str, tuple[list[str], str]] = {}
    everywhere: dict[str, tuple[list[str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or not (binding.show or binding.id):
            continue
        rows = everywhere if active.node is screen.app else local
        keys, _ = rows.setdefault(binding.action, ([], binding.description))
        keys.append(binding.key_display or screen.app.get_key_display(binding) or key)
    sections = (("This screen", local), ("Everywhere", everywhere))
    return "\n\n".join(_table(heading, rows) for heading, rows in sections if rows)


def _table(heading: str, rows: dict[str, tuple[list[str], str]]) -> str:
    lines = [f"## {heading}", "", "| keys | action |", "| --- | --- |"]
    for keys, description in rows.values():
        lines.append(f"| `{' / '.join(dict.fromkeys(keys))}` | {description} |")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__(classes="dialog")
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Markdown(
                f"# Keys: {self.under.title or self.under.name or 'bentotui'}\n\n{GUIDE}\n"
                + bindings_table(self.under)
            )
