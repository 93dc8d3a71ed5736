// scopegate stats on an audit made by real calls through the SDK client: grants no call of
// their role used in the window are reported as candidates for removal, and a subject
// whose share of refused calls rose over the window before is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { makeWorld, connect, refusal, SCOPEGATE } from './peers.mjs';

const run = (world, ...args) =>
  spawnSync(SCOPEGATE, ['stats', '--db', world.db, '--catalog', world.catalog, ...args], { encoding: 'utf8' });

const findings = (r) => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('stats reports unused grants per role and a subject whose denial rate rose', async () => {
  const world = makeWorld();
  // Both start at once on the new store; if one fails, the other is closed before failing
  // (a client left open would keep the test running until its timeout).
  const started = await Promise.allSettled([connect(world, { role: 'viewer', subject: 'alice' }),
    connect(world, { role: 'editor', subject: 'bob' })]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.filter((s) => s.status === 'fulfilled').map((s) => s.value.client.close()));
    throw failed.reason;
  }
  const [alice, bob] = started.map((s) => s.value);
  const pause = () => new Promise((r) => setTimeout(r, 20));
  let start, middle, end;
  try {
    // The window before: alice (viewer) makes allowed calls only.
    start = Date.now();
    await pause();
    for (let i = 0; i < 5; i++) await alice.client.callTool({ name: 'echo', arguments: { message: `m${i}` } });
    await alice.client.callTool({ name: 'read_file', arguments: { path: 'acme/hello.txt' } });
    await pause();
    middle = Date.now();
    await pause();
    // The last window: alice probes a tool she was not granted; bob (editor) adds numbers.
    for (let i = 0; i < 4; i++) {
      const e = await refusal(alice.client.callTool({ name: 'write_file', arguments: { path: 'acme/x', content: 'x' } }));
      assert.equal(e.data.reason, 'not_granted');
    }
    await alice.client.callTool({ name: 'echo', arguments: { message: 'still here' } });
    for (let i = 0; i < 5; i++) await bob.client.callTool({ name: 'add', arguments: { a: i, b: 1 } });
    await pause();
    end = Date.now();
  } finally {
    await alice.client.close();
    await bob.client.close();
  }
  // Two windows of the same length that meet at `middle`: the last one holds every call
  // of the second part, the one before every call of the first, however long each took.
  const windowMs = Math.max(end - middle, middle - start);
  const window = String(windowMs / 3600000);
  const until = new Date(middle + windowMs).toISOString();
  const stats = (...args) => run(world, '--until', until, ...args);

  const r = stats('--window', window, '--json');
  assert.equal(r.status, 0, r.stderr);
  const all = findings(r);
  const unused = all.filter((f) => f.kind === 'unused_grant').map((f) => `${f.role}/${f.grant}`);
  // viewer used echo in the window, but not read_file (used only before it) nor the rest.
  assert.ok(!unused.includes('viewer/echo'), unused.join(' '));
  for (const g of ['viewer/read_file', 'viewer/add', 'viewer/list_directory', 'viewer/long_operation', 'viewer/prompt:city_brief'])
    assert.ok(unused.includes(g), `${g} in ${unused.join(' ')}`);
  assert.ok(!unused.includes('editor/add'), unused.join(' '));
  for (const g of ['editor/echo', 'editor/read_file', 'editor/write_file'])
    assert.ok(unused.includes(g), `${g} in ${unused.join(' ')}`);
  const readFile = all.find((f) => f.kind === 'unused_grant' && f.role === 'viewer' && f.grant === 'read_file');
  assert.match(readFile.last_allowed, /^\d{4}-\d\d-\d\dT/, 'when it was last used, before the window');
  assert.equal(all.find((f) => f.role === 'viewer' && f.grant === 'add').last_allowed, null);

  // alice: 4 refused of 5 in the window, none of 6 before; bob was never refused.
  const rose = all.filter((f) => f.kind === 'denial_rate_rose');
  assert.deepEqual(rose.map((f) => f.subject), ['alice']);
  assert.equal(rose[0].calls, 5);
  assert.equal(rose[0].refused, 4);
  assert.equal(rose[0].previous_calls, 6);
  assert.equal(rose[0].previous_refused, 0);
  assert.equal(rose[0].top_reason, 'not_granted');

  // Below --min-calls nobody is named; the table for people says the same things.
  assert.deepEqual(findings(stats('--window', window, '--json', '--min-calls', '6'))
    .filter((f) => f.kind === 'denial_rate_rose'), []);
  const text = stats('--window', window);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /candidates for removal/);
  assert.match(text.stdout, /viewer\s+read_file\s+read\s+\d{4}-/);
  assert.match(text.stdout, /editor\s+write_file\s+write\s+never/);
  assert.match(text.stdout, /alice\s+5\s+4\s+80%\s+0% of 6\s+not_granted/);

  // Usage errors.
  assert.equal(stats('--window', '0').status, 2);
  assert.equal(stats('--window', 'soon').status, 2);
  assert.equal(stats('--bogus').status, 2);
  assert.equal(run(world, '--until', 'yesterday').status, 2);
});
