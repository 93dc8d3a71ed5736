#!/usr/bin/env bash
# Runs scopegate on the example catalog. First a short session through the official MCP
# TypeScript SDK client shows what the gateway does (the tools a viewer is offered,
# allowed calls, refused calls with their reason codes, the audit rows they left); then
# the gateway serves Streamable HTTP on 127.0.0.1 until interrupted (Ctrl-C), for any MCP
# client to connect to. DEMO_PORT (default 8787) picks the port; DEMO_SESSION_ONLY=1 stops
# after the session.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# The shared files area: one folder per tenant; the demo's caller is tenant "acme".
mkdir -p var/demo-files/acme var/demo-files/globex
[ -f var/demo-files/acme/welcome.txt ] || echo "Welcome to acme's files." > var/demo-files/acme/welcome.txt
[ -f var/demo-files/globex/plans.txt ] || echo "globex's plans: not for acme." > var/demo-files/globex/plans.txt
node tools/demo-session.mjs "$@"
[ "${DEMO_SESSION_ONLY:-0}" = 1 ] && exit 0

port=${DEMO_PORT:-8787}
cat <<EOT

Serving the example catalog on http://127.0.0.1:$port/mcp (Streamable HTTP) as role
"viewer", tenant "acme", env "demo". Connect an MCP client to that URL, for example:

  npx @modelcontextprotocol/inspector --cli http://127.0.0.1:$port/mcp --transport http --method tools/list

Every call is audited: build/src/scopegate audit tail --db var/scopegate.db
Press Ctrl-C to stop.
EOT
exec build/src/scopegate serve --catalog catalog --db var/scopegate.db --listen "127.0.0.1:$port" \
  --role viewer --tenant acme --env demo --subject demo-user
