#!/usr/bin/env bash
# Runs scopegate on the example catalog and shows a short session through the official
# MCP TypeScript SDK client: the tools a viewer is offered, an allowed call, a refused
# call with its reason, and the audit rows those calls left.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
mkdir -p var/demo-files
[ -f var/demo-files/welcome.txt ] || echo "Welcome to the shared files area." > var/demo-files/welcome.txt
exec node tools/demo-session.mjs "$@"
