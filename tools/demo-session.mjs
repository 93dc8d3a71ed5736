// A short MCP session against scopegate on the example catalog, as an agent would run
// it, printed for a person to read. Used by tools/demo.sh.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scopegate = join(root, process.env.BUILD_DIR ?? 'build', 'src/scopegate');
const db = join(root, 'var/scopegate.db');
const args = ['serve', '--catalog', join(root, 'catalog'), '--db', db,
  '--role', 'viewer', '--tenant', 'acme', '--env', 'demo', '--subject', 'demo-user'];

console.log(`$ scopegate ${args.join(' ')}\n`);
const transport = new StdioClientTransport({ command: scopegate, args, cwd: root, stderr: 'pipe' });
const client = new Client({ name: 'scopegate-demo', version: '1.0.0' });
await client.connect(transport);
const server = client.getServerVersion();
console.log(`connected to ${server.name} ${server.version}\n`);

const { tools } = await client.listTools();
console.log('tools offered to role "viewer":');
for (const t of tools) console.log(`  ${t.name.padEnd(16)} ${t.description}`);

async function call(name, args) {
  console.log(`\ncall ${name} ${JSON.stringify(args)}`);
  try {
    const r = await client.callTool({ name, arguments: args });
    console.log(`  -> result: ${r.content.map((c) => c.text ?? `[${c.type}]`).join(' ')}`);
  } catch (e) {
    console.log(`  -> refused (${e.data?.reason}): ${e.message}`);
  }
}

await call('echo', { message: 'hello through scopegate' });
await call('add', { a: 19, b: 23 });
await call('read_file', { path: 'acme/welcome.txt' });
await call('read_file', { path: 'acme/../globex/plans.txt' });
await call('write_file', { path: 'acme/welcome.txt', content: 'overwritten' });
await call('add', { a: 'nineteen', b: 23 });
await call('get-env', {});
await client.close();

console.log(`\n$ scopegate audit tail -n 7 --db ${db}`);
console.log(execFileSync(scopegate, ['audit', 'tail', '-n', '7', '--db', db], { encoding: 'utf8' }));
