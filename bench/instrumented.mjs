// A fixture module compiled as the preload's `_compile` hook compiles a selected module
// (engines/preload/instrument.ts: its functions' bodies instrumented, as under
// `livetrace run -t`), and registered in require.cache under its own name, so sessions from
// the library (`trace()`) find its functions and hook their bodies. For bench/body.mjs and
// bench/bystander.mjs; run `npm run build` first.
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { instrumentModule } from '../dist/esm/agent/engines/preload/instrument.js';

export function loadInstrumented(file) {
  const instrumented = instrumentModule(readFileSync(file, 'utf8'), file);
  if (instrumented === undefined) throw new Error(`${file} was not instrumented`);
  const compiled = new Module(file);
  compiled.filename = file;
  compiled.paths = Module._nodeModulePaths(file);
  compiled._compile(instrumented, file);
  compiled.loaded = true;
  createRequire(file).cache[file] = compiled;
  return compiled.exports;
}
