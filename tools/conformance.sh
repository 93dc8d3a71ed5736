#!/usr/bin/env bash
# Runs the official MCP conformance suite against server-everything directly and through
# scopegate, and compares them scenario by scenario (tools/conformance.mjs says how).
# Needs the npm peers (tools/setup.sh installs them, with the Node 22 binary the suite
# requires) and a built scopegate: SCOPEGATE_BIN, or build/src/scopegate.
# Ends with "conformance: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
exec node tools/conformance.mjs "$@"
