// `scopegate validate` run as a catalog author runs it: a schema with relative $refs to
// files beside it, --map for URIs, --draft, --format-assert, --all, standard input, and the exit
// codes (0 valid, 1 invalid or not JSON, 2 an unusable schema or usage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SCOPEGATE } from './peers.mjs';

function run(args, input) {
  const r = spawnSync(SCOPEGATE, ['validate', ...args], { encoding: 'utf8', input, cwd: dir });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

const write = (rel, value) =>
  writeFileSync(join(dir, rel), typeof value === 'string' ? value : JSON.stringify(value));

const dir = mkdtempSync(join(tmpdir(), 'scopegate-validate-'));
mkdirSync(join(dir, 'shared'));
mkdirSync(join(dir, 'vendor'));
mkdirSync(join(dir, 'outside'));
write('shared/name.json', { type: 'string', minLength: 1, maxLength: 8 });
write('vendor/amount.json', { type: 'integer', minimum: 0, maximum: 100 });
write('outside/secret.json', { type: 'string' });
write('tool.json', {
  type: 'object',
  properties: {
    name: { $ref: 'shared/name.json' },
    amount: { $ref: 'https://schemas.example.com/vendor/amount.json' },
    email: { type: 'string', format: 'email' },
  },
  required: ['name'],
  additionalProperties: false,
});
write('ok.json', { name: 'alice', amount: 5 });
write('long.json', { name: 'far too long a name' });
write('extra.json', { name: 'bob', color: 'red' });
write('bad-email.json', { name: 'carol', email: 'not an address' });
write('dup.json', '{"name": "a", "name": "b"}');
write('garbage.json', '{"name": ');
const MAP = ['--map', `https://schemas.example.com/vendor=${join(dir, 'vendor')}`];

test('valid instances print "FILE: valid" and exit 0', () => {
  const r = run(['--schema', 'tool.json', ...MAP, 'ok.json']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.lines, ['ok.json: valid']);
});

test('an invalid instance prints where, why and which keyword, and exits 1', () => {
  const r = run(['--schema', 'tool.json', ...MAP, 'ok.json', 'long.json', 'extra.json']);
  assert.equal(r.code, 1, r.err);
  assert.deepEqual(r.lines, [
    'ok.json: valid',
    'long.json: invalid: /name: string is longer than 8 characters (maxLength at /properties/name/$ref/maxLength)',
    'extra.json: invalid: /color: property "color" is not allowed (additionalProperties at /additionalProperties)',
  ]);
});

test('--all reports every error of an invalid instance, one indented line each', () => {
  const r = run(['--schema', 'tool.json', ...MAP, '--all', 'ok.json', '-'],
    '{"amount": 500, "email": 3, "color": "red", "size": 1}');
  assert.equal(r.code, 1, r.err);
  assert.deepEqual(r.lines, [
    'ok.json: valid',
    '-: invalid: 5 errors',
    '    (root): required property "name" is missing (required at /required)',
    '    /amount: number is greater than 100 (maximum at /properties/amount/$ref/maximum)',
    '    /email: expected string, got integer (type at /properties/email/type)',
    '    /color: property "color" is not allowed (additionalProperties at /additionalProperties)',
    '    /size: property "size" is not allowed (additionalProperties at /additionalProperties)',
  ]);
  // Without --all, the first of them alone.
  const first = run(['--schema', 'tool.json', ...MAP, '-'], '{"amount": 500, "email": 3, "color": "red", "size": 1}');
  assert.deepEqual(first.lines, ['-: invalid: (root): required property "name" is missing (required at /required)']);
});

test('an instance that is not JSON, or has duplicate keys, is invalid', () => {
  const r = run(['--schema', 'tool.json', ...MAP, 'dup.json', 'garbage.json']);
  assert.equal(r.code, 1);
  assert.match(r.lines[0], /^dup\.json: invalid: not JSON: .*duplicate/);
  assert.match(r.lines[1], /^garbage\.json: invalid: not JSON: /);
});

test('standard input is read when no instance is named, or for "-"', () => {
  let r = run(['--schema', 'tool.json', ...MAP], '{"name": "dave"}');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.lines, ['-: valid']);
  r = run(['--schema', 'tool.json', ...MAP, 'ok.json', '-'], '{"name": ""}');
  assert.equal(r.code, 1);
  assert.deepEqual(r.lines, ['ok.json: valid', '-: invalid: /name: string is shorter than 1 character (minLength at /properties/name/$ref/minLength)']);
  r = run(['--schema', 'tool.json', ...MAP], '"a string, not an object"');
  assert.equal(r.code, 1);
  assert.match(r.lines[0], /^-: invalid: \(root\): expected object, got string \(type at \/type\)$/);
});

test('--map is needed for URIs, and reads only under its directory', () => {
  let r = run(['--schema', 'tool.json', 'ok.json']);
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.match(r.err, /tool\.json: \/properties\/amount\/\$ref: schema does not compile: cannot resolve "https:\/\/schemas\.example\.com\/vendor\/amount\.json"/);
  write('escape.json', { $ref: 'https://schemas.example.com/vendor/../outside/secret.json' });
  r = run(['--schema', 'escape.json', ...MAP, 'ok.json']);
  assert.equal(r.code, 2);
  write('escape2.json', { $ref: 'https://schemas.example.com/vendor/%2e%2e/outside/secret.json' });
  r = run(['--schema', 'escape2.json', ...MAP, 'ok.json']);
  assert.equal(r.code, 2);
  assert.match(r.err, /leads outside/);
  r = run(['--schema', 'tool.json', '--map', 'https://schemas.example.com/vendor=/no/such/dir', 'ok.json']);
  assert.equal(r.code, 2);
  r = run(['--schema', 'tool.json', '--map', 'no-equals-sign', 'ok.json']);
  assert.equal(r.code, 2);
});

test('relative $refs may not leave the schema\'s folder, by ".." or by symbolic link', () => {
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  writeFileSync(join(sub, 'up.json'), JSON.stringify({ $ref: '../outside/secret.json' }));
  symlinkSync(join(dir, 'outside/secret.json'), join(sub, 'link.json'));
  writeFileSync(join(sub, 'via-link.json'), JSON.stringify({ $ref: 'link.json' }));
  writeFileSync(join(sub, 'abs.json'), JSON.stringify({ $ref: 'file:///etc/passwd' }));
  for (const schema of ['sub/up.json', 'sub/via-link.json', 'sub/abs.json']) {
    const r = run(['--schema', schema, 'ok.json']);
    assert.equal(r.code, 2, schema);
    assert.match(r.err, /outside the directories schemas may be read from/, schema);
  }
});

test('a schema that does not parse or compile exits 2, as do usage errors', () => {
  write('broken.json', '{"type": ');
  write('uncompilable.json', { type: 'string', pattern: '[' });
  let r = run(['--schema', 'broken.json', 'ok.json']);
  assert.equal(r.code, 2);
  assert.match(r.err, /broken\.json: schema is not JSON/);
  r = run(['--schema', 'uncompilable.json', 'ok.json']);
  assert.equal(r.code, 2);
  assert.match(r.err, /uncompilable\.json: \/pattern: schema does not compile/);
  assert.equal(run(['--schema', 'missing.json', 'ok.json']).code, 2);
  assert.equal(run(['ok.json']).code, 2);
  assert.equal(run(['--schema', 'tool.json', '--bogus']).code, 2);
  assert.equal(run(['--schema', 'tool.json', '--draft', '4']).code, 2);
  assert.equal(run(['--schema', 'tool.json', ...MAP, 'no-such-instance.json']).code, 2);
  const help = run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /only the first error of an invalid instance is reported.*\n.*with --all, every error/);
});

test('--format-assert makes "format" an assertion', () => {
  let r = run(['--schema', 'tool.json', ...MAP, 'bad-email.json']);
  assert.equal(r.code, 0);
  r = run(['--schema', 'tool.json', ...MAP, '--format-assert', 'bad-email.json']);
  assert.equal(r.code, 1);
  assert.deepEqual(r.lines, ['bad-email.json: invalid: /email: string is not a valid email (format at /properties/email/format)']);
});

test('--draft 7 reads a schema without $schema as draft-07', () => {
  // In draft-07 keywords beside $ref are ignored; in 2020-12 they apply.
  write('d7.json', { definitions: { s: { type: 'string' } }, $ref: '#/definitions/s', maxLength: 2 });
  write('abc.json', '"abc"');
  let r = run(['--schema', 'd7.json', 'abc.json']);
  assert.equal(r.code, 1);
  assert.match(r.lines[0], /maxLength/);
  r = run(['--schema', 'd7.json', '--draft', '7', 'abc.json']);
  assert.equal(r.code, 0, r.out + r.err);
  // draft-07's tuple "items" with "additionalItems".
  write('tuple.json', { items: [{ type: 'integer' }], additionalItems: false });
  write('pair.json', '[1, 2]');
  r = run(['--schema', 'tuple.json', '--draft', '7', 'pair.json']);
  assert.equal(r.code, 1);
  assert.match(r.lines[0], /^pair\.json: invalid: \/1: /);
});

test('the example catalog\'s shared path schema validates on its own', () => {
  write('path-ok.json', '"acme/reports/q1.txt"');
  write('path-bad.json', '"acme/../../etc passwd"');
  const r = run(['--schema', join(ROOT, 'schemas/tenant-path.json'), 'path-ok.json', 'path-bad.json']);
  assert.equal(r.code, 1);
  assert.deepEqual(r.lines, [
    'path-ok.json: valid',
    'path-bad.json: invalid: (root): string does not match the pattern "^[A-Za-z0-9_./-]+$" (pattern at /pattern)',
  ]);
});
