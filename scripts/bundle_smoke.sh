#!/usr/bin/env bash
# Smoke test of the slim bundle, run from a copy in an empty folder with a clean environment
# (env -i, PATH=/usr/bin:/bin) so that no virtual environment or system Python can help it.
# Checks: --help, models list, demo, serving the iris model and answering a POST, an Image API
# decoding a PNG (Pillow's optional plugins are left out), the TUI starting with its styles under
# tmux, and a torch model served through an external Python.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV_PY="$ROOT/.venv/bin/python"
work=$(mktemp -d /tmp/bentotui-bundle-smoke.XXXXXX)
cp -a dist/bentotui "$work/app"
home="$work/home"
mkdir -p "$home"
B="$work/app/bentotui"
session="bentotui-smoke-$$"
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

clean_env=(HOME="$work" PATH=/usr/bin:/bin LANG=C.UTF-8 TERM=xterm-256color BENTOTUI_HOME="$home")
clean() { env -i "${clean_env[@]}" "$@"; }
say() { printf '\n== %s\n' "$*"; }

# Starts `bentotui serve ARGS` from the bundle on a free port, logging to serve-NAME.log (in this
# shell, so cleanup can stop it).
serve_as() {
    local name=$1; shift
    # env execs the bundle, so $! is the server's own pid (the one in its registry entry)
    env -i "${clean_env[@]}" "$B" serve "$@" --port 0 >"$work/serve-$name.log" 2>&1 &
    pids+=("$!")
}
serve_model() { serve_as "$1" --model "$@"; }

# Prints the port of the server with pid $1 once its /readyz answers 200.
wait_ready() {
    local pid=$1 tag=$2
    for _ in $(seq 1 120); do
        local file port=""
        file=$(grep -lE "\"pid\": ?$pid[,} ]" "$home"/runs/*.json 2>/dev/null | head -1 || true)
        [ -n "$file" ] && port=$(grep -oE '"port": ?[0-9]+' "$file" | grep -oE '[0-9]+$')
        if [ -n "${port:-}" ] && curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
            echo "$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$work/serve-$tag.log" >&2; return 1; }
        sleep 0.5
    done
    cat "$work/serve-$tag.log" >&2
    return 1
}

say "--help (wall time)"
start=$(date +%s%N)
clean "$B" --help >/dev/null
echo "bentotui --help: $(( ($(date +%s%N) - start) / 1000000 )) ms"

say "models list (empty store)"
clean "$B" models list

say "demo"
clean "$B" demo
clean "$B" models list --output json | grep -q '"iris-classifier'

say "serve the iris model with two workers (forked by the fork server) and POST"
serve_model iris-classifier --runner-workers 2
port=$(wait_ready "${pids[-1]}" iris-classifier)
answer=$(curl -fsS -X POST "http://127.0.0.1:$port/predict" -H 'Content-Type: application/json' -d '[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]')
echo "predict -> $answer"
[ "$(echo "$answer" | tr -d ' \n')" = "[0,2]" ]
grep -q "fork server up" "$work/serve-iris-classifier.log"

say "an Image API decodes a PNG"
mkdir "$work/imagesvc"
cat >"$work/imagesvc/service.py" <<'PY'
import bentotui
from bentotui.io import JSON, Image

svc = bentotui.Service("pictures")


@svc.api(input=Image(), output=JSON())
def size(image) -> dict:
    return {"size": list(image.size), "mode": image.mode}
PY
"$VENV_PY" -c "from PIL import Image; Image.new('RGB', (3, 2), 'red').save('$work/red.png')"
cd "$work/imagesvc"   # not a subshell: serve_as records the pid for cleanup
serve_as pictures service:svc
cd "$ROOT"
port=$(wait_ready "${pids[-1]}" pictures)
answer=$(curl -fsS -X POST "http://127.0.0.1:$port/size" -H 'Content-Type: image/png' --data-binary "@$work/red.png")
echo "size -> $answer"
[ "$(echo "$answer" | tr -d ' \n')" = '{"size":[3,2],"mode":"RGB"}' ]

say "TUI under tmux"
tmux new-session -d -s "$session" -x 140 -y 40 "env -i ${clean_env[*]} $B"
ok=""
for _ in $(seq 1 40); do
    sleep 0.5
    if tmux capture-pane -p -t "$session" | grep -q "iris-classifier"; then ok=1; break; fi
done
tmux capture-pane -p -t "$session" | head -20
[ -n "$ok" ] || { echo "TUI did not show the store"; exit 1; }
tmux send-keys -t "$session" C-q
for _ in $(seq 1 20); do
    sleep 0.5
    tmux has-session -t "$session" 2>/dev/null || break
done
if tmux has-session -t "$session" 2>/dev/null; then echo "TUI did not quit"; exit 1; fi

say "torch model through the external Python ($VENV_PY)"
BENTOTUI_HOME="$home" "$VENV_PY" - <<'PY'
import torch
import bentotui

doubler = torch.nn.Linear(2, 2, bias=False)
with torch.no_grad():
    doubler.weight.copy_(torch.eye(2) * 2)
bentotui.pytorch.save_model("doubler", doubler)
PY
clean "$B" config set runner.python "$VENV_PY"   # the bundle has no torch: its runner uses this Python
serve_model doubler
port=$(wait_ready "${pids[-1]}" doubler)
answer=$(curl -fsS -X POST "http://127.0.0.1:$port/predict" -H 'Content-Type: application/json' -d '[[1.0,2.0]]')
echo "doubler -> $answer"
[ "$(echo "$answer" | tr -d ' \n')" = "[[2.0,4.0]]" ]

say "bundle smoke: all passed"
