#!/usr/bin/env bash
# Records a terminal session of a long `klaviyo-ingest run` in tmux: starts the command in a detached
# tmux session (its own server socket, a 150x40 terminal), saves `tmux capture-pane` of the screen
# every INTERVAL seconds into OUT_DIR/capture-NNN.txt until the command has ended (or MAX captures),
# then the final screen as OUT_DIR/final.txt and the exit code as OUT_DIR/exit-code.
#
# Usage: record-progress.sh OUT_DIR INTERVAL MAX -- command [args...]
# The command inherits this script's environment (KLAVIYO_API_KEY, KLAVIYO_BASE_URL, ...).
# Run by test/cli/terminal-progress.test.ts; needs tmux (.ci/run installs it).
set -euo pipefail

out_dir=$1
interval=$2
max=$3
shift 3
[ "$1" = "--" ] && shift

command -v tmux >/dev/null 2>&1 || {
  echo "record-progress.sh: tmux is not installed (Debian: apt-get install tmux)" >&2
  exit 3
}
mkdir -p "$out_dir"
socket="ki-record-$$"
session=ki
# The command line for the pane, each argument quoted for the shell tmux starts it with.
printf -v cmd '%q ' "$@"
done_file="$out_dir/exit-code"
rm -f "$done_file"

cleanup() { tmux -L "$socket" kill-server >/dev/null 2>&1 || true; }
trap cleanup EXIT

# tmux starts a pane with its server's environment: hand ours on (-e) for what the command needs.
env_args=()
while IFS= read -r name; do
  env_args+=(-e "$name=${!name}")
done < <(compgen -e | grep -E '^(KLAVIYO_[A-Z_]*|PATH|HOME|TMPDIR|LANG|LC_ALL)$')
tmux -L "$socket" -f /dev/null new-session -d -s "$session" -x 150 -y 40 "${env_args[@]}" \
  "$cmd; echo \$? > $(printf '%q' "$done_file"); sleep 600"

n=0
while [ "$n" -lt "$max" ]; do
  sleep "$interval"
  n=$((n + 1))
  tmux -L "$socket" capture-pane -p -t "$session" > "$(printf '%s/capture-%03d.txt' "$out_dir" "$n")"
  [ -s "$done_file" ] && break
done
# The command's last screen, once it has ended (at most 60 s more).
for _ in $(seq 1 120); do
  [ -s "$done_file" ] && break
  sleep 0.5
done
tmux -L "$socket" capture-pane -p -t "$session" -S -200 > "$out_dir/final.txt"
[ -s "$done_file" ] || { echo "record-progress.sh: the command did not end" >&2; exit 4; }
