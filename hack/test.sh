#!/usr/bin/env bash
# `make test`: integration/e2e suites against a real kcp (started by the Jest global setup on free ports), and beside
# them typecheck, lint and unit tests. Prints Jest's summaries and, last, the plain line "N passed, N failed"
# (a failed typecheck or lint counts as one failure).
set -uo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/.bin/node
JEST=(node_modules/jest/bin/jest.js --ci)
# A runaway test process fails fast with a heap error instead of exhausting the machine.
export NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning --max-old-space-size=4096"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The SSH suites need the OS's OpenSSH, tmux and rsync (installed when root with apt, else the command is printed).
if ! bash hack/tools/os-packages.sh; then echo "0 passed, 1 failed"; exit 1; fi

# Typecheck, lint and unit tests run beside the integration suites, which wait on kcp, edge clusters and the network
# most of the time (about half of the 2 cores): side by side they take about a minute less than one after the other.
# Their output is printed after the integration suites'.
static_checks() {
  echo "== typecheck"
  if ! $NODE node_modules/typescript/bin/tsc --noEmit; then echo "typecheck failed"; return 1; fi
  echo "== lint (eslint, prettier)"
  if ! $NODE node_modules/eslint/bin/eslint.js --max-warnings=0 . || ! $NODE node_modules/prettier/bin/prettier.cjs --check --log-level=warn .; then
    echo "lint failed: 'make format' fixes formatting; the rest is named above"; return 1
  fi
  echo "== unit tests"
  $NODE "${JEST[@]}" --selectProjects unit -w 1 --json --outputFile="$out/unit.json"
}
static_checks >"$out/static.log" 2>&1 &
static_pid=$!

echo "== integration tests (real kcp); typecheck, lint and unit tests run beside them"
$NODE "${JEST[@]}" --selectProjects integration --runInBand --json --outputFile="$out/integration.json"
it_rc=$?
wait "$static_pid"
static_rc=$?
cat "$out/static.log"

$NODE -e '
const fs = require("fs");
let passed = 0, failed = 0;
for (const f of process.argv.slice(1)) {
  if (!fs.existsSync(f)) { failed += 1; continue; }
  const r = JSON.parse(fs.readFileSync(f, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
}
console.log(`${passed} passed, ${failed} failed`);
' "$out/unit.json" "$out/integration.json"
[ $static_rc -eq 0 ] && [ $it_rc -eq 0 ]
