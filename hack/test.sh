#!/usr/bin/env bash
# `make test`: typecheck, lint, unit tests, then integration/e2e suites against a real kcp (started by the Jest global
# setup on free ports). Prints Jest's summary and, last, the plain line "N passed, N failed".
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

echo "== typecheck"
if ! $NODE node_modules/typescript/bin/tsc --noEmit; then
  echo "typecheck failed"; echo "0 passed, 1 failed"; exit 1
fi

echo "== lint (eslint, prettier)"
if ! $NODE node_modules/eslint/bin/eslint.js --max-warnings=0 . || ! $NODE node_modules/prettier/bin/prettier.cjs --check --log-level=warn .; then
  echo "lint failed: 'make format' fixes formatting; the rest is named above"; echo "0 passed, 1 failed"; exit 1
fi

echo "== unit tests"
$NODE "${JEST[@]}" --selectProjects unit -w 2 --json --outputFile="$out/unit.json"
unit_rc=$?

echo "== integration tests (real kcp)"
$NODE "${JEST[@]}" --selectProjects integration --runInBand --json --outputFile="$out/integration.json"
it_rc=$?

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
[ $unit_rc -eq 0 ] && [ $it_rc -eq 0 ]
