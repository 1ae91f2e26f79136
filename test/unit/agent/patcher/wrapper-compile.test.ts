/**
 * How a wrapper is compiled (wrapper-compile.ts): by vm.compileFunction with the file name
 * 'livetrace-wrapper', so the frame it adds has a file name (caller-path, import-jsx);
 * and, where compiling throws, the equivalent closures, which behave the same.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { patch } from './recording-hook.js';

const control = vi.hoisted(() => ({ refuse: false }));
vi.mock('node:vm', async (importOriginal) => {
  const vm = await importOriginal<typeof import('node:vm')>();
  return {
    ...vm,
    compileFunction: (...args: Parameters<typeof vm.compileFunction>) => {
      if (control.refuse) throw new EvalError('Code generation from strings disallowed for this context');
      return vm.compileFunction(...args);
    },
  };
});

/** getFileName() of the frame that called the traced function: the wrapper's, when traced. */
function callerFileOf(run: (probe: () => unknown) => unknown): unknown {
  let file: unknown;
  const probe = function probe(): void {
    const prepare = Error.prepareStackTrace;
    Error.prepareStackTrace = (_, stack) => stack;
    const stack = new Error().stack as unknown as NodeJS.CallSite[];
    Error.prepareStackTrace = prepare;
    // [0] probe, [1] the traced function, [2] what called it.
    file = stack[2]!.getFileName();
  };
  run(probe);
  return file;
}

function cases(expectFile: (file: unknown) => void): void {
  it('a plain function: same result, the hook saw it', () => {
    const holder = { f: (probe: () => void, x: number) => (probe(), x + 1) };
    const { hook, unpatch } = patch(holder, 'f');
    let result: unknown;
    expectFile(callerFileOf((probe) => (result = holder.f(probe as () => void, 1))));
    expect(result).toBe(2);
    expect(hook.entered).toBe(1);
    unpatch();
  });

  it('a constructor: same instance kind, same throw', () => {
    function Point(this: { x: number }, probe: () => void, x: number): void {
      probe();
      if (x < 0) throw new RangeError('negative');
      this.x = x;
    }
    const holder = { Point };
    const { hook, unpatch } = patch(holder, 'Point');
    const P = holder.Point as unknown as new (probe: () => void, x: number) => { x: number };
    let made: { x: number } | undefined;
    expectFile(callerFileOf((probe) => (made = new P(probe as () => void, 3))));
    expect(made).toBeInstanceOf(Point);
    expect(made!.x).toBe(3);
    expect(() => new P(() => {}, -1)).toThrow(RangeError);
    expect(hook.entered).toBe(2);
    unpatch();
  });
}

describe('compiled by vm.compileFunction', () => {
  cases((file) => expect(file).toBe('livetrace-wrapper'));
});

describe('closures where compiling throws', () => {
  // Suites run in order: the compiled suite above has made its wrappers by now.
  beforeAll(() => {
    control.refuse = true;
  });
  cases((file) => {
    expect(typeof file).toBe('string');
    expect(file).toMatch(/wrapper-function\.ts$/);
  });
});
