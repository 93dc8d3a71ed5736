// Runs a downstream MCP server and appends every line it receives on stdin to a file,
// so tests can prove which messages reached the server. Usage:
//   node record-downstream.mjs RECORD_FILE COMMAND ARGS...
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

const [record, command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'inherit', 'inherit'] });
let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let i;
  while ((i = pending.indexOf('\n')) >= 0) {
    appendFileSync(record, pending.slice(0, i + 1));
    pending = pending.slice(i + 1);
  }
  child.stdin.write(chunk);
});
process.stdin.on('end', () => child.stdin.end());
child.on('exit', (code, signal) => process.exit(signal ? 1 : code ?? 0));
// Stopped by the gateway: the server goes too (one with timers running would otherwise
// outlive its closed stdin).
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
