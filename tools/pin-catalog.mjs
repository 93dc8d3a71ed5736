// Records, in each tool file of a catalog, what its downstream server advertises for the
// tool today (description and inputSchema) as the tool's "pin". Run it after reviewing a
// downstream server's tools; scopegate then quarantines any tool whose downstream later
// advertises something else. Usage: node tools/pin-catalog.mjs [CATALOG_DIR] [--check]
// With --check nothing is written; the exit status is 1 when a pin is missing or stale.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const args = process.argv.slice(2);
const check = args.includes('--check');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const catalog = resolve(args.find((a) => !a.startsWith('--')) ?? join(root, 'catalog'));
const servers = JSON.parse(readFileSync(join(catalog, 'servers.json'), 'utf8')).servers;

const advertised = {};
for (const [name, s] of Object.entries(servers)) {
  const client = new Client({ name: 'scopegate-pin', version: '1' });
  await client.connect(new StdioClientTransport({
    command: s.command, args: s.args ?? [], cwd: resolve(catalog, s.cwd ?? '.'), env: { ...process.env, ...(s.env ?? {}) }, stderr: 'pipe',
  }));
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  await client.close();
  advertised[name] = Object.fromEntries(tools.map((t) => [t.name, t]));
}

let stale = 0;
for (const file of readdirSync(join(catalog, 'tools')).filter((f) => f.endsWith('.json')).sort()) {
  const path = join(catalog, 'tools', file);
  const tool = JSON.parse(readFileSync(path, 'utf8'));
  const seen = advertised[tool.server]?.[tool.tool];
  if (!seen) {
    console.error(`${file}: server "${tool.server}" does not advertise "${tool.tool}"`);
    stale++;
    continue;
  }
  const pin = { description: seen.description ?? '', inputSchema: seen.inputSchema };
  if (isDeepStrictEqual(tool.pin, pin)) {
    console.log(`${file}: pin up to date`);
    continue;
  }
  stale++;
  console.log(`${file}: ${tool.pin ? 'pin differs from' : 'no pin for'} what "${tool.server}" advertises`);
  if (!check) {
    tool.pin = pin;
    writeFileSync(path, JSON.stringify(tool, null, 2) + '\n');
    console.log(`${file}: pinned`);
  }
}
process.exit(check && stale ? 1 : 0);
