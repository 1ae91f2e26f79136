// What the ES module scan (src/agent/engines/probes/esm-source.ts) costs a process that
// livetrace attached to without its preload: a generated app of MODULES ES modules (each
// with five exported functions and one internal one) is imported, then the agent, as an
// attach loads it; then the scan is read as a catalog read after its reuse time would:
//   npm run build && node bench/esm-scan.mjs [--quick] [--json] [--modules 500]
//
// Rows, in ms of this process's CPU (user + system) and wall time, best of ROUNDS:
// - first scan (the Debugger turned on and off, every script V8 has looked at);
// - a read with nothing loaded since (the script-id check only);
// - a read after one more ES module loaded (a scan again, new scripts only kept);
// - a whole catalog read (`ls` without a filter) with nothing loaded since.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const quick = argv.includes('--quick');
const modulesArg = argv.indexOf('--modules');
const MODULES = modulesArg === -1 ? (quick ? 100 : 500) : Number(argv[modulesArg + 1]);
const ROUNDS = quick ? 2 : 5;

const dir = mkdtempSync(join(tmpdir(), 'lt-esm-scan-'));
try {
  for (let i = 0; i < MODULES; i++) {
    writeFileSync(
      join(dir, `m${i}.mjs`),
      `import { helper${(i + 1) % MODULES} as next } from './m${(i + 1) % MODULES}.mjs';
export function helper${i}(x) { return x + ${i}; }
export function handle${i}(req) { return { id: req.id, n: helper${i}(req.id), next: typeof next }; }
export async function load${i}(id) { return inner${i}(id); }
function inner${i}(id) { return [id, ${i}]; }
export class Service${i} { get(id) { return helper${i}(id); } }
export default function main${i}() { return ${i}; }
`,
    );
  }
  writeFileSync(join(dir, 'index.mjs'), Array.from({ length: MODULES }, (_, i) => `import './m${i}.mjs';\n`).join(''));
  await import(pathToFileURL(join(dir, 'index.mjs')).href);

  const { scanEsModulesNow, scanCounts } = await import('../dist/esm/agent/engines/probes/esm-source.js');
  const { listFunctions } = await import('../dist/esm/agent/catalog/listing.js');
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const time = (fn) => {
    const c0 = cpu();
    const w0 = performance.now();
    const result = fn();
    return { cpu: cpu() - c0, wall: performance.now() - w0, result };
  };
  const best = (runs) => ({ cpu: Math.min(...runs.map((r) => r.cpu)), wall: Math.min(...runs.map((r) => r.wall)) });

  const first = time(() => scanEsModulesNow());
  const found = first.result.length;
  listFunctions(); // the catalog's own caches (parsed sources), so the rows below are steady-state reads
  const unchanged = [];
  for (let r = 0; r < ROUNDS; r++) unchanged.push(time(() => scanEsModulesNow()));
  const added = [];
  for (let r = 0; r < ROUNDS; r++) {
    const file = join(dir, `late${r}.mjs`);
    writeFileSync(file, `export function late${r}(x) { return x; }\n`);
    await import(pathToFileURL(file).href);
    added.push(time(() => scanEsModulesNow()));
  }
  const ls = [];
  for (let r = 0; r < ROUNDS; r++) {
    scanEsModulesNow();
    ls.push(time(() => listFunctions()));
  }
  const rows = [
    { id: 'esm-scan-first', name: `first scan (${found} ES modules found)`, ...best([first]) },
    { id: 'esm-scan-unchanged', name: 'read, nothing loaded since', ...best(unchanged) },
    { id: 'esm-scan-added', name: 'read, one ES module loaded since', ...best(added) },
    { id: 'esm-ls', name: 'catalog read (ls), nothing loaded since', ...best(ls) },
  ];
  if (json) console.log(JSON.stringify({ modules: MODULES, counts: scanCounts, rows }));
  else {
    console.log(`ES module scan, ${MODULES} generated ES modules (node ${process.version}, ms, best of ${ROUNDS}; scans ${scanCounts.scans}, unchanged ${scanCounts.unchanged})`);
    for (const r of rows) console.log(`  ${r.name.padEnd(44)} cpu ${r.cpu.toFixed(1).padStart(7)}  wall ${r.wall.toFixed(1).padStart(7)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
