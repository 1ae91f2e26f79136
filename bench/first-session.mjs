// The first session's start in a fresh CommonJS process, in-process (no CLI, no attach):
//   npm run build && node bench/first-session.mjs [--runs=N] [<other repo root> ...]
//
// Each run is a fresh `node` that requires a traced module and livetrace's CommonJS
// build, then times (process.cpuUsage() and performance.now()):
// - `params`: the first parametersOf() of the module's function (acorn cold, if it runs);
// - `start`: trace('<module>:<fn>', { max: 1 }) itself, and `event`: from before trace()
//   to the first call record.
// Modules: `hot` (a one-line function, as bench/system.mjs's attach target) and `big`
// (one function of about 96 KB, under params.ts's MAX_SOURCE_LENGTH). With other repo
// roots (built copies, e.g. main's), the roots are run alternately and each gets its medians.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 9);
const roots = [resolve(fileURLToPath(new URL('..', import.meta.url))), ...args.filter((a) => !a.startsWith('--')).map((a) => resolve(a))];
const work = mkdtempSync(join(tmpdir(), 'lt-bench-first-'));

writeFileSync(join(work, 'hot.cjs'), "exports.hot = function hot(i, tag) { return i + tag.length; };\n");
let body = '';
for (let i = 0; i < 1200; i++) body += `  if (user === "u${i}") { total += password.length * ${i} + String(${i}).length; }\n`;
writeFileSync(join(work, 'big.cjs'), `exports.big = function big(user, password) {\n  let total = 0;\n${body}  return total;\n};\n`);

const child = (mode, name) => `
const { performance } = require('node:perf_hooks');
const root = process.argv[1];
const lib = require('./${name}.cjs');
const fn = lib.${name};
const ms = (u) => (u.user + u.system) / 1000;
if (${JSON.stringify(mode)} === 'params') {
  const { parametersOf } = require(root + '/dist/cjs/agent/source/params.js');
  const u0 = process.cpuUsage(), t0 = performance.now();
  parametersOf(fn);
  console.log(JSON.stringify({ paramsCpu: ms(process.cpuUsage(u0)), paramsWall: performance.now() - t0 }));
} else {
  const { trace } = require(root + '/dist/cjs/index.js');
  const u0 = process.cpuUsage(), t0 = performance.now();
  const session = trace('${name}:${name}', { max: 1 });
  const start = { startCpu: ms(process.cpuUsage(u0)), startWall: performance.now() - t0 };
  // Through the module's property: a reference taken before trace() keeps the original.
  lib.${name}('u1', 'x');
  (async () => {
    for await (const record of session) {
      if (record.type !== 'call') continue;
      console.log(JSON.stringify({ ...start, eventCpu: ms(process.cpuUsage(u0)), eventWall: performance.now() - t0 }));
      break;
    }
  })();
}
`;

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const results = new Map();
try {
  for (let run = 0; run < runs; run++) {
    for (const root of roots) {
      for (const name of ['hot', 'big']) {
        for (const mode of ['params', 'trace']) {
          const out = spawnSync(process.execPath, ['-e', child(mode, name), root], { cwd: work, encoding: 'utf8', timeout: 60_000 });
          if (out.status !== 0) throw new Error(`${root} ${mode} ${name}: ${out.stderr}`);
          for (const [field, value] of Object.entries(JSON.parse(out.stdout))) {
            const key = `${root}\t${name}\t${field}`;
            if (!results.has(key)) results.set(key, []);
            results.get(key).push(value);
          }
        }
      }
    }
  }
  const { loadavg } = await import('node:os');
  console.log(`median of ${runs} fresh processes each, ms (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  for (const [key, values] of results) {
    const [root, name, field] = key.split('\t');
    console.log(`${root}  ${name}  ${field.padEnd(10)} ${median(values).toFixed(2).padStart(8)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
