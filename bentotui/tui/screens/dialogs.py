"""Modal dialogs: confirm, ask for a path, start a server.  Each returns its answer via ``dismiss``."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from bentotui.exceptions import InvalidArgument


class ConfirmDialog(ModalScreen[bool]):
    """Yes/no; ``esc`` and "No" answer False, so a stray key never deletes anything.

    A ``destructive`` question (delete) draws its yes button in the error colour and starts on
    "No", so ``enter`` keeps the data; an offer (create the demo models) draws it as the primary
    button and starts on it, so ``enter`` accepts.  Both say which keys answer.
    """

    BINDINGS = [
        Binding("escape", "answer(False)", "Cancel", id="dialog.cancel"),
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str, yes: str = "Yes", *, destructive: bool = True) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.yes = yes
        self.destructive = destructive

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Label(self.question, id="question", markup=False)
            yield Label(f"y  {self.yes.lower()}    esc  cancel", id="hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.yes, variant="error" if self.destructive else "primary", id="yes")
                yield Button("No", id="no")

    def on_mount(self) -> None:
        self.query_one("#no" if self.destructive else "#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


#: The core's errors end with a hint for the CLI; in the TUI the same choice is a form field or
#: a verb, so the toast says that instead of naming a flag the TUI has no control for.
CLI_HINTS = {
    "(try --port 0 for a free one)": "(start it on port 0 for a free one)",
    "(use --force to replace it)": "(delete the stored one first, then import again)",
    "(use --force to overwrite it)": "(choose another path)",
}


def for_tui(message: str) -> str:
    """``message`` with its CLI-flag hint replaced by what to do in the TUI."""
    for cli, tui in CLI_HINTS.items():
        message = message.replace(cli, tui)
    return message


class PromptDialog(ModalScreen[str | None]):
    """One line of text (a file path); ``esc`` cancels with None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__(classes="dialog")
        self.title_text, self.value, self.placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Label(self.title_text)
            yield Input(self.value, placeholder=self.placeholder, id="prompt")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class StartRequest:
    """What to serve: a service/bento ``target`` or a ``model`` tag, on ``port`` (0 = any free)."""

    target: str | None
    model: str | None
    port: int


KINDS = (("service file (module:attr)", "service"), ("bento tag", "bento"), ("model tag", "model"))


def parse_start(kind: str, target: str, port: str) -> StartRequest:
    """Validate the start form; raises InvalidArgument naming the bad field."""
    target = target.strip()
    if not target:
        raise InvalidArgument("say what to serve: a service (module:attr), a bento tag or a model tag")
    port = port.strip() or "0"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InvalidArgument(f"port must be a number from 0 to 65535, not {port!r}")
    if kind == "model":
        return StartRequest(None, target, int(port))
    return StartRequest(target, None, int(port))


class StartDialog(ModalScreen[StartRequest | None]):
    """Pick what to serve and the port; errors show inline and keep the dialog open."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, kind: str = "service", target: str = "", port: str = "0") -> None:
        super().__init__(classes="dialog")
        self.kind, self.target, self.port = kind, target, port

    def compose(self) -> ComposeResult:
        with Grid(id="dialog-box", classes="form"):
            yield Label("serve a")
            yield Select(KINDS, value=self.kind, allow_blank=False, id="kind")
            yield Label("target")
            yield Input(
                self.target, placeholder="service:svc, iris_classifier:latest or iris:latest", id="target"
            )
            yield Label("port")
            yield Input(self.port, placeholder="0 = any free port", id="port")
            yield Label("", id="error")
            yield Button("Start", variant="primary", id="start")

    def on_mount(self) -> None:
        self.query_one("#target", Input).focus()

    def _submit(self) -> None:
        try:
            request = parse_start(
                str(self.query_one("#kind", Select).value),
                self.query_one("#target", Input).value,
                self.query_one("#port", Input).value,
            )
        except InvalidArgument as exc:
            self.query_one("#error", Label).update(str(exc))
            return
        self.dismiss(request)

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self) -> None:
        self._submit()

    def action_cancel(self) -> None:
        self.dismiss(None)
