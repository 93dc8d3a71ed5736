// The reviewer's commands run as CI runs them: `scopegate check` on known-bad catalogs
// (exact problem lines and exit codes), `scopegate matrix` on the example catalog, and
// `scopegate diff` between two directories and between git revisions of a catalog in a
// scratch repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, cpSync, rmSync, readFileSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SCOPEGATE } from './peers.mjs';

const CATALOGS = join(ROOT, 'tests/catalogs');

function run(args, opts = {}) {
  const r = spawnSync(SCOPEGATE, args, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

test('check reports every problem the loader refuses, by file and JSON Pointer, and exits 1', () => {
  const r = run(['check', join(CATALOGS, 'refused')]);
  assert.equal(r.code, 1, r.err);
  assert.deepEqual(r.lines, [
    'tools/broken.json: /acess: unknown field "acess"',
    'tools/broken.json: /server: no server "nowhere" in servers.json',
    'tools/broken.json: /inputSchema/properties/x/pattern: schema does not compile: pattern does not compile: missing terminating ] for character class',
    'matrix.json: /roles/agent/tools/ghost: grants unknown tool "ghost"',
    'matrix.json: /roles/agent/tools/lookup/envelope/nope: tool "lookup" declares no parameter "nope"',
    'matrix.json: /roles/agent/tools/lookup/envelope/n: the bounds leave no value that could ever match',
    'matrix.json: /roles/agent/tools/lookup/envelope/q/in: in needs a non-empty array or a context value; an empty list can never match',
    'matrix.json: /roles/agent/tools/lookup/bind/q: a binding must name a context value ($subject, $role, $tenant, $env or $claims.NAME)',
    'matrix.json: /roles/agent/tools/store: write tool "store" needs an approval mode ("required" or "auto")',
    'matrix.json: /roles/agent/tools/look*: wildcards are not allowed; grant each tool by name',
    'matrix.json: /roles/auditor/note: unknown field "note"',
  ]);
  assert.match(r.err, /11 errors, 0 warnings/);
});

const WARNINGS = [
  'matrix.json: /roles/editor/tools/write_file/approval: warning: write tool "write_file" is granted with approval "auto" and no budget: any number of its calls run without anyone approving them',
  'matrix.json: /roles/intern/tools: warning: role "intern" has no grants',
  'matrix.json: /roles/viewer/tools/read_file/envelope/encoding: warning: parameter "encoding" has an envelope, but the schema of "read_file" does not require it: clients are told they may leave it out, and calls that do are refused',
  'matrix.json: /roles/viewer/tools/read_file/envelope/encoding/pattern: warning: pattern "utf-8|latin1" is not anchored with ^ and $, so it admits any value that merely contains a match',
  'matrix.json: /roles/viewer/tools/read_file/envelope/path/prefix: warning: prefix "$tenant" does not end in "/", so it also admits names that merely start with it ("acme" admits "acmecorp")',
  'matrix.json: /writes_enabled: warning: 1 grant of write tools, but "writes_enabled" is not true, so none of them can be called',
  'servers.json: /servers/legacy: warning: server "legacy" is used by no tool, prompt or resource grant',
  'tools/read_file.json: /inputSchema/properties/path/maxLenght: warning: "maxLenght" is not a JSON Schema keyword, so validation ignores it (misspelt? extensions start with "x-")',
  'tools/stat.json: /inputSchema: warning: the schema admits parameters it does not declare (no "additionalProperties": false), and they are passed to the downstream unchecked',
  'tools/stat.json: /name: warning: tool "stat" is granted to no role',
];

test('check prints lint warnings for a catalog that loads; they fail it only with --strict', () => {
  const r = run(['check', join(CATALOGS, 'warnings')]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.lines, WARNINGS);
  const strict = run(['check', '--strict', join(CATALOGS, 'warnings')]);
  assert.equal(strict.code, 1);
  assert.deepEqual(strict.lines, WARNINGS);
});

test('check on the example catalog passes, and usage errors exit 2', () => {
  const r = run(['check', join(ROOT, 'catalog')]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.ok(r.lines.every((l) => /^[^:]+: \/\S*: warning: /.test(l)), r.out);
  assert.equal(run(['check']).code, 2);
  assert.equal(run(['check', '--bogus', join(ROOT, 'catalog')]).code, 2);
  assert.equal(run(['check', join(CATALOGS, 'no-such-catalog')]).code, 2);
  assert.equal(run(['check', '--help']).code, 0);
});

test('matrix renders who may call what on the example catalog, the same bytes every time', () => {
  const r = run(['matrix', join(ROOT, 'catalog')]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.lines[0], '| role | tool | access | approval | envelope | bindings |');
  assert.equal(r.lines[1], '|---|---|---|---|---|---|');
  assert.ok(r.lines.includes('| editor | write_file | write | auto | `path` prefix `$tenant/` | - |'), r.out);
  assert.ok(r.lines.includes('| viewer | read_file | read | none | `path` prefix `$tenant/` | - |'), r.out);
  assert.ok(r.lines.includes('| viewer | echo | read | none | - | - |'), r.out);
  assert.ok(!r.lines.some((l) => l.startsWith('| viewer | write_file ')), 'viewer cannot write');
  const [tools, ...others] = r.out.split('\n\n');
  const body = tools.split('\n').filter(Boolean).slice(2);
  assert.deepEqual(body, [...body].sort(), 'rows sorted by role, then tool');
  assert.equal(run(['matrix', join(ROOT, 'catalog')]).out, r.out);
  // Prompt and resource grants follow in tables of their own.
  assert.ok(others.some((t) => t.startsWith('| role | prompt | server |\n') &&
    t.includes('\n| viewer | city_brief | everything |')), r.out);
  assert.ok(others.some((t) => t.startsWith('| role | resources under | server |\n') &&
    t.includes('\n| viewer | `demo://resource/static/document/` | everything |')), r.out);

  const j = run(['matrix', '--json', join(ROOT, 'catalog')]);
  assert.equal(j.code, 0, j.err);
  const all = JSON.parse(j.out);
  const rows = all.tools;
  assert.equal(rows.length, body.length);
  assert.deepEqual(all.prompts, [{ role: 'viewer', prompt: 'city_brief', server: 'everything', downstream_prompt: 'args-prompt' }]);
  assert.deepEqual(all.resources, [{ role: 'viewer', server: 'everything', prefix: 'demo://resource/static/document/' }]);
  assert.deepEqual(rows.find((x) => x.role === 'editor' && x.tool === 'write_file'), {
    role: 'editor', tool: 'write_file', access: 'write', approval: 'auto', budget: null,
    approval_timeout_seconds: null, server: 'files', downstream_tool: 'write_file',
    envelope: { path: { prefix: '$tenant/' } }, bind: {},
  });
  assert.equal(all.writes_enabled, true);
});

test('matrix refuses an invalid catalog with its problems', () => {
  const r = run(['matrix', join(CATALOGS, 'refused')]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /matrix\.json: \/roles\/agent\/tools\/ghost: grants unknown tool "ghost"/);
});

const OLD_TO_NEW = [
  'role removed: auditor',
  'revoked: auditor search: read, approval none, envelope `limit` ≤ `10`',
  'revoked: editor delete_file: write, approval required, envelope `path` prefix `$tenant/`',
  'narrowed: editor read_file: `path` prefix `$tenant/` -> `$tenant/docs/` (lengthened)',
  'granted: editor search: read, approval none, envelope `limit` ≤ `20`',
  'widened: editor write_file: approval required -> auto',
  'role added: support',
  'granted: support read_file: read, approval none, envelope `path` prefix `$tenant/`',
  'widened: viewer search: schema changed; `limit` ≤ `50` -> `100` (raised)',
  'granted: viewer resources on files: `file://$tenant/`',
];

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-review-'));
  return dir;
}

// A copy of diff-old where the only change narrows: the viewer's search limit goes down.
function narrowedCopy(dir) {
  const to = join(dir, 'narrowed');
  cpSync(join(CATALOGS, 'diff-old'), to, { recursive: true });
  const m = JSON.parse(readFileSync(join(to, 'matrix.json'), 'utf8'));
  m.roles.viewer.tools.search.envelope.limit.max = 25;
  writeFileSync(join(to, 'matrix.json'), JSON.stringify(m, null, 2));
  return to;
}

test('diff between two directories names each change; exit 1 when anything widened', () => {
  const r = run(['diff', join(CATALOGS, 'diff-old'), join(CATALOGS, 'diff-new')]);
  assert.equal(r.code, 1, r.err);
  assert.deepEqual(r.lines, OLD_TO_NEW);

  const j = run(['diff', '--json', join(CATALOGS, 'diff-old'), join(CATALOGS, 'diff-new')]);
  assert.equal(j.code, 1);
  const changes = JSON.parse(j.out);
  assert.equal(changes.length, OLD_TO_NEW.length);
  assert.deepEqual(changes.find((c) => c.kind === 'widened' && c.name === 'write_file'),
    { kind: 'widened', object: 'tool', role: 'editor', name: 'write_file', detail: 'approval required -> auto', widens: true });
  assert.deepEqual(changes.find((c) => c.object === 'resources'),
    { kind: 'granted', object: 'resources', role: 'viewer', name: 'files', detail: '`file://$tenant/`', widens: true });
  assert.deepEqual(changes.find((c) => c.kind === 'role added'),
    { kind: 'role added', object: 'role', role: 'support', name: null, detail: '', widens: true });

  const same = run(['diff', join(CATALOGS, 'diff-old'), join(CATALOGS, 'diff-old')]);
  assert.equal(same.code, 0);
  assert.equal(same.out, '');

  const dir = scratch();
  try {
    const narrowed = run(['diff', join(CATALOGS, 'diff-old'), narrowedCopy(dir)]);
    assert.equal(narrowed.code, 3, narrowed.err);
    assert.deepEqual(narrowed.lines, ['narrowed: viewer search: `limit` ≤ `50` -> `25` (lowered)']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('diff refuses a catalog that does not load, and bad arguments, with exit 2', () => {
  const r = run(['diff', join(CATALOGS, 'diff-old'), join(CATALOGS, 'refused')]);
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.match(r.err, /grants unknown tool "ghost"/);
  assert.equal(run(['diff', join(CATALOGS, 'diff-old')]).code, 2);
  assert.equal(run(['diff', join(CATALOGS, 'diff-old'), join(CATALOGS, 'no-such-catalog')]).code, 2);
});

test('diff between git revisions of a catalog directory', () => {
  const repo = scratch();
  const tmp = join(repo, '.tmp'); // where scopegate unpacks revisions; must be empty after
  mkdirSync(tmp);
  const env = { ...process.env, TMPDIR: tmp, GIT_AUTHOR_NAME: 'Catalog Author',
    GIT_AUTHOR_EMAIL: 'author@example.com', GIT_COMMITTER_NAME: 'Catalog Author',
    GIT_COMMITTER_EMAIL: 'author@example.com' };
  const git = (...args) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' });
  try {
    git('init', '-q');
    writeFileSync(join(repo, '.gitignore'), '.tmp/\n');
    cpSync(join(CATALOGS, 'diff-old'), join(repo, 'catalog'), { recursive: true });
    git('add', '-A');
    git('commit', '-q', '-m', 'first catalog');
    rmSync(join(repo, 'catalog'), { recursive: true });
    cpSync(join(CATALOGS, 'diff-new'), join(repo, 'catalog'), { recursive: true });
    git('add', '-A');
    git('commit', '-q', '-m', 'second catalog');

    const opts = { cwd: repo, env };
    let r = run(['diff', 'HEAD~1:catalog', 'HEAD:catalog'], opts);
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(r.lines, OLD_TO_NEW);
    // A revision against the working directory.
    r = run(['diff', 'HEAD~1:catalog', 'catalog'], opts);
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(r.lines, OLD_TO_NEW);
    r = run(['diff', 'HEAD:catalog', 'catalog'], opts);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '');
    // PATH is relative to the current directory, as git has it.
    r = run(['diff', 'HEAD~1:.', 'HEAD:.'], { ...opts, cwd: join(repo, 'catalog') });
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(r.lines, OLD_TO_NEW);

    // Only narrowing: exit 3.
    rmSync(join(repo, 'catalog'), { recursive: true });
    cpSync(narrowedCopy(repo), join(repo, 'catalog'), { recursive: true });
    rmSync(join(repo, 'narrowed'), { recursive: true });
    git('add', '-A');
    git('commit', '-q', '-m', 'third catalog');
    r = run(['diff', 'HEAD~2:catalog', 'HEAD:catalog'], opts);
    assert.equal(r.code, 3, r.err);
    assert.deepEqual(r.lines, ['narrowed: viewer search: `limit` ≤ `50` -> `25` (lowered)']);

    // A revision or path that does not exist is a load error.
    r = run(['diff', 'no-such-rev:catalog', 'catalog'], opts);
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot extract no-such-rev:catalog/);
    r = run(['diff', 'HEAD:nothing-here', 'catalog'], opts);
    assert.equal(r.code, 2);

    assert.deepEqual(readdirSync(tmp), [], 'unpacked revisions are removed');
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('diff of revisions brings the shared schemas beside the catalog along', () => {
  const repo = scratch();
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Catalog Author', GIT_AUTHOR_EMAIL: 'author@example.com',
    GIT_COMMITTER_NAME: 'Catalog Author', GIT_COMMITTER_EMAIL: 'author@example.com' };
  const git = (...args) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' });
  const shared = (maxLength) => writeFileSync(join(repo, 'schemas', 'path.json'),
    JSON.stringify({ type: 'string', maxLength }));
  try {
    git('init', '-q');
    cpSync(join(CATALOGS, 'diff-old'), join(repo, 'catalog'), { recursive: true });
    mkdirSync(join(repo, 'schemas'));
    shared(64);
    const tool = JSON.parse(readFileSync(join(repo, 'catalog/tools/read_file.json'), 'utf8'));
    tool.inputSchema.properties.path = { $ref: '../../schemas/path.json' };
    writeFileSync(join(repo, 'catalog/tools/read_file.json'), JSON.stringify(tool, null, 2));
    git('add', '-A');
    git('commit', '-q', '-m', 'a shared schema');
    shared(4096);
    git('commit', '-q', '-a', '-m', 'longer paths');

    const r = run(['diff', 'HEAD~1:catalog', 'HEAD:catalog'], { cwd: repo, env });
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(r.lines, [
      'widened: editor read_file: schema changed',
      'widened: viewer read_file: schema changed',
    ]);
    assert.equal(run(['diff', 'HEAD:catalog', 'catalog'], { cwd: repo, env }).code, 0);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});
