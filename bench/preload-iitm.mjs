// The evaluation behind the preload engine's design (docs/reach.md): each breakage fixture
// of test/fixtures/reach/breakage run plainly, then under import-in-the-middle's loader
// hook (idle, and with a hook that, like a tracer, replaces every function export by one
// wrapper per function), and under livetrace's preload (idle, and with a trace of every
// function of the fixtures from the first line). A cell says `same` when stdout and exit
// code are the plain run's, else the error or `different output`.
//   npm run build && node bench/preload-iitm.mjs
// Skips the import-in-the-middle column when the package is not installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const breakage = join(root, 'test/fixtures/reach/breakage');
const fixtures = ['cycle', 'tdz', 'star', 'let', 'reexport', 'getters', 'defaults', 'anonymous-class', 'const-assigned', 'tla'];
const work = mkdtempSync(join(tmpdir(), 'lt-iitm-'));

let iitmPreload;
try {
  const require = createRequire(join(root, 'package.json'));
  const hook = pathToFileURL(require.resolve('import-in-the-middle/hook.mjs')).href;
  const index = require.resolve('import-in-the-middle');
  const write = (name, wrap) => {
    const file = join(work, name);
    writeFileSync(
      file,
      [
        "import { register, createRequire } from 'node:module';",
        `register(${JSON.stringify(hook)}, import.meta.url, { data: { include: [new RegExp(${JSON.stringify(breakage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))})] } });`,
        `const { addHook } = createRequire(import.meta.url)(${JSON.stringify(index)});`,
        'const wrappers = new WeakMap();',
        'const wrap = (fn) => {',
        '  let w = wrappers.get(fn);',
        '  if (w) return w;',
        '  w = function (...args) { return new.target ? Reflect.construct(fn, args, new.target) : Reflect.apply(fn, this, args); };',
        "  Object.defineProperty(w, 'prototype', { value: fn.prototype });",
        "  Object.defineProperty(w, 'name', { value: fn.name });",
        '  wrappers.set(fn, w);',
        '  return w;',
        '};',
        wrap
          ? "addHook((url, ns) => { for (const key of Object.keys(ns)) if (typeof ns[key] === 'function') ns[key] = wrap(ns[key]); });"
          : 'addHook(() => {});',
        '',
      ].join('\n'),
    );
    return file;
  };
  iitmPreload = { idle: write('iitm-idle.mjs', false), wrapping: write('iitm-wrap.mjs', true) };
} catch {
  iitmPreload = undefined;
}

const register = join(root, 'dist/esm/register.js');
const harness = join(root, 'test/fixtures/reach/harness.mjs');

function run(fixture, args, traced = false) {
  const socketDir = mkdtempSync(join(tmpdir(), 'lt-iitm-sock-'));
  try {
    const env = { ...process.env, LIVETRACE_SOCKET_DIR: socketDir };
    delete env.NODE_OPTIONS;
    const script = traced ? [harness, 'esm', 'before', JSON.stringify(['breakage/**:*']), `./breakage/${fixture}.mjs`] : [join(breakage, `${fixture}.mjs`)];
    const r = spawnSync(process.execPath, [...args, ...script], { env, encoding: 'utf8', timeout: 20_000 });
    const stdout = r.stdout.split('\n').filter((line) => !/^(LS|REACH) /.test(line)).join('\n');
    return { status: r.status, stdout, stderr: r.stderr };
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
  }
}

const columns = [
  ['livetrace, idle', ['--import', register], false],
  ['livetrace, tracing all', ['--import', register], true],
];
if (iitmPreload) {
  columns.unshift(['iitm, idle', ['--import', iitmPreload.idle], false], ['iitm, wrapping all', ['--import', iitmPreload.wrapping], false]);
}
const cell = (text) => text.slice(0, 30).padEnd(32);
console.log(`${'fixture'.padEnd(17)}${columns.map(([name]) => cell(name)).join('')}`);
try {
  for (const fixture of fixtures) {
    const plain = run(fixture, []);
    const cells = columns.map(([, args, traced]) => {
      const r = run(fixture, args, traced);
      if (r.status === plain.status && r.stdout === plain.stdout) return 'same';
      return r.status !== 0 ? (/\b(\w*Error)\b[^\n]*/.exec(r.stderr)?.[0] ?? `exit ${r.status}`) : 'different output';
    });
    console.log(`${fixture.padEnd(17)}${cells.map(cell).join('')}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
