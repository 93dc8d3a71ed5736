// Measures ajv (draft 2020-12 build, with ajv-formats) on the cases that
// tools/bench/schema_bench.c measures for this project's validator: compiled and parsed
// beforehand, only validation timed, one error wanted (allErrors off), as a gateway would
// run it. Prints "CASE valid|invalid NS" lines like the C program.
//
//   node tools/bench/schema_bench.mjs CASES.json [ROUNDS]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../package.json'));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const ROUND_NS = 20e6; // each round lasts about 20 ms

const [file, roundsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node schema_bench.mjs CASES.json [ROUNDS]');
  process.exit(2);
}
const rounds = Math.max(1, Number(roundsArg ?? 15));
const { cases } = JSON.parse(readFileSync(file, 'utf8'));

let sink = 0;
// A fresh loop for each measurement, so that V8 sees one validation function and one
// instance shape at its call site: a loop shared by all cases turns megamorphic and
// would make ajv look slower than it is.
const RUN_BODY = `let ok = 0;
for (let i = 0; i < n; i++) if (validate(data)) ok++;
return ok + (validate.errors ? validate.errors.length : 0);`;

function measure(validate, data) {
  const loop = new Function('validate', 'data', 'n', RUN_BODY);
  const run = (v, d, n) => { sink += loop(v, d, n); };
  let n = 1;
  for (;;) { // calibrate, which also gives the JIT time to optimise
    const t0 = process.hrtime.bigint();
    run(validate, data, n);
    const dt = Number(process.hrtime.bigint() - t0);
    if (dt > ROUND_NS / 4) {
      n = Math.ceil(n * ROUND_NS / dt);
      break;
    }
    n *= 2;
  }
  // Warm up for a while: V8 optimises on a background thread, which a busy machine slows.
  const warmUntil = process.hrtime.bigint() + 300_000_000n;
  while (process.hrtime.bigint() < warmUntil) run(validate, data, n);
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    run(validate, data, n);
    per.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return Math.min(...per); // the round other work on the machine disturbed least
}

let status = 0;
for (const c of cases) {
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats(ajv);
  const validate = ajv.compile(c.schema);
  for (const kind of ['valid', 'invalid']) {
    if (!(kind in c)) continue;
    if (validate(c[kind]) !== (kind === 'valid')) {
      console.error(`schema_bench.mjs: ${c.name}: the ${kind} instance is not ${kind} for ajv`);
      status = 1;
      continue;
    }
    console.log(`${c.name} ${kind} ${measure(validate, c[kind]).toFixed(1)}`);
  }
}
if (sink < 0) console.log(sink);
process.exit(status);
