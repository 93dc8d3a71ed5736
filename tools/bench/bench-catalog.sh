# A catalog for the benchmarks, written to DIR/catalog: role "bench" may call "echo", which
# the echo server (tools/bench/echo_server.c, at ECHO_SERVER) serves over stdio. Sourced by
# bench.sh and http-bench.sh, so that both measure the same enforcement.
#
#   write_bench_catalog DIR ECHO_SERVER

json_escape() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }

write_bench_catalog() {
  local dir=$1 echo_server=$2
  mkdir -p "$dir/catalog/tools"
  cat >"$dir/catalog/servers.json" <<EOF
{
  "servers": {
    "bench": {
      "transport": "stdio",
      "command": "$(json_escape "$echo_server")",
      "args": [],
      "cwd": "."
    }
  }
}
EOF
  cat >"$dir/catalog/tools/echo.json" <<'EOF'
{
  "name": "echo",
  "server": "bench",
  "tool": "echo",
  "access": "read",
  "description": "Echoes back the message it is given.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "message": { "type": "string", "minLength": 1, "maxLength": 1024 }
    },
    "required": ["message"],
    "additionalProperties": false
  }
}
EOF
  cat >"$dir/catalog/matrix.json" <<'EOF'
{
  "roles": {
    "bench": {
      "tools": {
        "echo": {}
      }
    }
  }
}
EOF
}
