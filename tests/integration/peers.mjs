// Real MCP peers and the plumbing the integration tests share: the official SDK client
// (from tools/node_modules, installed by the lock file in tools/), a copy of the example
// catalog pointed at real downstream servers, and helpers to read the audit.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SDK = join(ROOT, 'tools/node_modules/@modelcontextprotocol/sdk/dist/esm');
export const { Client } = await import(join(SDK, 'client/index.js'));
export const { StdioClientTransport } = await import(join(SDK, 'client/stdio.js'));
export const { McpError } = await import(join(SDK, 'types.js'));

export const SCOPEGATE = process.env.SCOPEGATE_BIN
  ? resolve(process.env.SCOPEGATE_BIN)
  : join(ROOT, 'build/src/scopegate');
export const EVERYTHING = join(ROOT, 'tools/node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = join(ROOT, 'tools/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const RECORDER = join(ROOT, 'tests/integration/record-downstream.mjs');

// A scratch directory holding a copy of the example catalog whose servers are the real
// reference servers. With record: true each downstream runs behind a recorder that
// appends every message the downstream receives to <dir>/received-<server>.jsonl, so a
// test can prove what did and did not reach it.
export function makeWorld({ record = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-it-'));
  const catalog = join(dir, 'catalog');
  cpSync(join(ROOT, 'catalog'), catalog, { recursive: true });
  // The catalog's tools $ref the project's shared schemas, found beside the catalog.
  cpSync(join(ROOT, 'schemas'), join(dir, 'schemas'), { recursive: true });
  const files = join(dir, 'files');
  for (const tenant of ['acme', 'globex']) {
    mkdirSync(join(files, tenant), { recursive: true });
    writeFileSync(join(files, tenant, 'hello.txt'), `hello from ${tenant}\n`);
  }
  const server = (name, script, args) => record
    ? { transport: 'stdio', command: process.execPath,
        args: [RECORDER, join(dir, `received-${name}.jsonl`), process.execPath, script, ...args], cwd: dir }
    : { transport: 'stdio', command: process.execPath, args: [script, ...args], cwd: dir };
  writeFileSync(join(catalog, 'servers.json'), JSON.stringify({ servers: {
    everything: server('everything', EVERYTHING, ['stdio']),
    files: server('files', FILESYSTEM, [files]),
  } }, null, 2));
  return { dir, catalog, files, db: join(dir, 'audit.db') };
}

// Adds to world's catalog a tool for server-everything's toggle-subscriber-updates (which
// makes it send notifications/resources/updated for what it is subscribed to, at once and
// every 5 s), granted to viewers. Returns world.
export function withUpdateSwitch(world) {
  writeFileSync(join(world.catalog, 'tools', 'toggle_updates.json'), JSON.stringify({
    name: 'toggle_updates', server: 'everything', tool: 'toggle-subscriber-updates', access: 'read',
    description: 'Starts or stops simulated resource updates.',
    inputSchema: { type: 'object', additionalProperties: false },
  }));
  const matrixPath = join(world.catalog, 'matrix.json');
  const matrix = JSON.parse(readFileSync(matrixPath, 'utf8'));
  matrix.roles.viewer.tools.toggle_updates = {};
  writeFileSync(matrixPath, JSON.stringify(matrix));
  return world;
}

// The URIs of the notifications/resources/updated that client receives, as they come.
const { ResourceUpdatedNotificationSchema } = await import(join(SDK, 'types.js'));
export function resourceUpdates(client) {
  const seen = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { seen.push(n.params.uri); });
  return seen;
}

// Messages a downstream received (parsed), or [] when it received none.
export function received(world, server) {
  const path = join(world.dir, `received-${server}.jsonl`);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

export function receivedToolCalls(world, server) {
  return received(world, server).filter((m) => m.method === 'tools/call').map((m) => m.params);
}

// Starts scopegate for an identity and connects the official SDK client to it.
// raw, when given, replaces the identity flags (for a token-based identity).
export async function connect(world, { role = 'viewer', tenant = 'acme', env = 'test', subject = 'alice', extraArgs = [], raw } = {}) {
  const identity = raw ? ['--role', role, ...raw]
    : ['--role', role, '--tenant', tenant, '--env', env, '--subject', subject];
  const transport = new StdioClientTransport({
    command: SCOPEGATE,
    args: ['serve', '--catalog', world.catalog, '--db', world.db, ...identity, ...extraArgs],
    stderr: 'pipe',
    env: { ...process.env, SCOPEGATE_LOG: 'info' },
  });
  let log = '';
  transport.stderr?.on('data', (d) => { log += d.toString(); });
  const client = new Client({ name: 'scopegate-integration', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, log: () => log };
}

// Awaits a call that the gateway must refuse with a JSON-RPC error, and returns the error.
export async function refusal(promise) {
  let result;
  try {
    result = await promise;
  } catch (e) {
    if (!(e instanceof McpError)) throw new Error(`expected a JSON-RPC error, got ${e}`);
    return e;
  }
  throw new Error(`expected a JSON-RPC error, got the result ${JSON.stringify(result)}`);
}

// Waits until pred() is true, polling.
export async function until(pred, { timeoutMs = 15000, stepMs = 25 } = {}) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await pred();
    if (v) return v;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error('condition not met in time');
}

// The audit as `scopegate audit tail --json` reports it.
export function auditRows(world, n = 200) {
  const out = execFileSync(SCOPEGATE, ['audit', 'tail', '--json', '-n', String(n), '--db', world.db], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// A raw line-oriented session with scopegate, for protocol edge cases the SDK never sends.
export function rawSession(world, args = ['--role', 'viewer', '--tenant', 'acme', '--env', 'test']) {
  const child = spawn(SCOPEGATE, ['serve', '--catalog', world.catalog, '--db', world.db, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  const lines = [];
  const waiters = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
      while (waiters.length && lines.length) waiters.shift()(lines.shift());
    }
  });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    exited,
    stderr: () => stderr,
    send(text) { child.stdin.write(text.endsWith('\n') ? text : text + '\n'); },
    next(timeoutMs = 10000) {
      if (lines.length) return Promise.resolve(lines.shift());
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error('no message from scopegate in time')), timeoutMs);
        waiters.push((m) => { clearTimeout(t); res(m); });
      });
    },
    async close() { child.stdin.end(); return exited; },
  };
}
