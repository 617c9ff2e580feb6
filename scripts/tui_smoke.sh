#!/usr/bin/env bash
# Smoke run of the real TUI in tmux, from the keyboard only: start it on an empty store, accept the
# demo models, serve the iris classifier from the Models area, send a request from the Requests
# area, read the access line in its log, stop the server, start a service that crashes on import
# (it must show as crashed with the error), and quit.  Every step waits (bounded) for text on the screen; on failure the last screen
# is printed.  Uses a throwaway BENTOTUI_HOME and stops only the servers this run started.
#
#   scripts/tui_smoke.sh            (BENTOTUI=path/to/bentotui to smoke a PyInstaller bundle)
set -euo pipefail

cd "$(dirname "$0")/.."
BENTOTUI=${BENTOTUI:-$PWD/.venv/bin/bentotui}
PYTHON=${PYTHON:-$PWD/.venv/bin/python}
SESSION="bentotui-smoke-$$"
export BENTOTUI_HOME
BENTOTUI_HOME=$(mktemp -d)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORK=$(mktemp -d)  # the TUI's working folder: holds a service that cannot be imported
cat >"$WORK/broken.py" <<'PY'
import fancylib_not_installed  # noqa: F401  (the crash this smoke run expects)
PY

screen() { tmux capture-pane -p -t "$SESSION"; }

cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    # stop (by pid, via the registry) whatever servers this smoke run left behind
    "$PYTHON" -c 'from bentotui import runs
for r in runs.list_runs(): runs.stop_run(r.id)' || true
    rm -rf "$BENTOTUI_HOME" "$WORK"
}
trap cleanup EXIT

# Keys sent the moment a screen or dialog opens can arrive before it has focus (worse on a busy CI
# machine), so each step that opens something waits for its text and then half a second.
wait_for() {  # wait_for TEXT SECONDS
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        if screen | grep -qF -- "$1"; then
            echo "ok: saw '$1'"
            return 0
        fi
        sleep 0.3
    done
    echo "FAILED: no '$1' within $2s; screen was:" >&2
    screen >&2
    exit 1
}

keys() { tmux send-keys -t "$SESSION" "$@"; }

tmux new-session -d -s "$SESSION" -x 140 -y 40 -c "$WORK" \
    "env BENTOTUI_HOME='$BENTOTUI_HOME' TERM=xterm-256color '$BENTOTUI'; sleep 30"

wait_for "Create the demo models" 30
keys y
wait_for "— 2 of 2" 300                # `bentotui demo` ran in a subprocess (both models listed)
wait_for "demo models created" 30       # and it is over: the table's loading indicator has gone

keys /
wait_for "filter: words" 10 && sleep 0.5  # the filter box takes focus once shown
keys -l "iris-classifier" && keys Enter
wait_for "1 of" 10 && sleep 0.5
keys s                                  # serve it: `bentotui serve --model iris-classifier:<version>`
wait_for "Servers" 10
wait_for "ready" 120 && sleep 0.5

keys t                                  # test request panel, pre-filled from /docs.json
wait_for "POST /" 30 && sleep 0.5
keys C-e && sleep 0.5                   # edit the body: replace the example with an iris row
keys F7 && sleep 0.5                    # select all of it; typing replaces the selection
keys -l '[[5.1, 3.5, 1.4, 0.2]]'
wait_for '[[5.1, 3.5, 1.4, 0.2]]' 10
keys C-s                                # send (from the body editor)
wait_for "200 OK" 30
screen | sed -n '1,40p'

keys Escape && sleep 0.5 && keys 2     # leave the body editor (a lone esc, not alt+2), go to Servers
wait_for "Servers — " 10 && sleep 0.5
keys Enter                              # enter on a server: its log, following
wait_for "FOLLOW" 10
wait_for " 200 " 10                     # the access line of the request just sent
keys Escape && sleep 0.5                # a lone esc (a key right after it would read as alt+key)
wait_for "Servers — " 10
wait_for "cpu " 15                      # beside the latency: the worker's CPU and memory, from the server
keys b                                  # the batching panel of that server
wait_for "cost line:" 15                # the runner method's fitted cost line, from /runners.json
wait_for "refused: none" 10
keys Escape && sleep 0.5
wait_for "Servers — " 10
keys 4                                  # Predictions: no bentoml.monitor logs in this home yet
wait_for "no prediction logs yet" 10
keys 2 && sleep 0.5
wait_for "Servers — " 10
keys s                                  # stop the selected server (graceful)
wait_for "stopped" 60 && sleep 0.5

keys n                                  # start a service file that fails on import
wait_for "target" 10 && sleep 0.5        # the dialog focuses its target field once mounted
keys -l "broken:svc" && keys Enter
wait_for "fancylib_not_installed" 60    # the error toast names what failed, not "started"
keys C-q
sleep 1
if tmux capture-pane -p -t "$SESSION" 2>/dev/null | grep -q "Servers"; then
    echo "FAILED: the TUI did not quit" >&2
    exit 1
fi
echo "smoke run passed"
