/** A CommonJS module body run in this context, plain or rewritten by the body instrumentation (the instrument tests). */
import { runInThisContext } from 'node:vm';
import { instrumentModule } from '../../../../src/agent/engines/preload/instrument.js';

/** Evaluates a CommonJS module body; returns its exports. */
export function load(code: string): Record<string, any> {
  const module = { exports: {} as Record<string, any> };
  const fn = runInThisContext(`(function (exports, module) {${code}\n})`) as (e: unknown, m: unknown) => void;
  fn.call(module.exports, module.exports, module);
  return module.exports;
}

/** The module's text as the preload would instrument it at `file`; throws when it would not be. */
export function rewrite(code: string, file = '/app/case.js'): string {
  const out = instrumentModule(code, file);
  if (out === undefined) throw new Error('not instrumented');
  return out;
}
