#!/usr/bin/env bash
# Runs scopegate on the example catalog and shows a short session through the official
# MCP TypeScript SDK client: the tools a viewer is offered, an allowed call, a refused
# call with its reason, and the audit rows those calls left.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# The shared files area: one folder per tenant; the demo's caller is tenant "acme".
mkdir -p var/demo-files/acme var/demo-files/globex
[ -f var/demo-files/acme/welcome.txt ] || echo "Welcome to acme's files." > var/demo-files/acme/welcome.txt
[ -f var/demo-files/globex/plans.txt ] || echo "globex's plans: not for acme." > var/demo-files/globex/plans.txt
exec node tools/demo-session.mjs "$@"
