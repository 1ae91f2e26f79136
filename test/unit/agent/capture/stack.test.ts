import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runInThisContext } from 'node:vm';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STACK_FRAMES, captureStack, ownFramePrefixes } from '../../../../src/agent/capture/stack.js';
import type { StackFrame } from '../../../../src/protocol/events.js';

// A TypeScript module whose type-only lines shift every line of the compiled output, so
// a frame that reports the .ts line proves the source map was applied.
const FIXTURE_TS = `interface Options {
  label: string;
  depth: number;
}

type Callback = () => unknown;

export function outerCaller(cb: Callback, options?: Options): unknown {
  const label: string = options?.label ?? 'none';
  return innerCallee(cb, label);
}

function innerCallee(cb: Callback, _label: string): unknown {
  return cb();
}
`;
const OUTER_LINE = 10; // return innerCallee(cb, label);
const INNER_LINE = 14; // return cb();

type Fixture = { outerCaller: (cb: () => unknown) => unknown };

let dir: string;
let cjs: Fixture;
let esm: Fixture;

function compile(module: ts.ModuleKind, jsName: string): void {
  const out = ts.transpileModule(FIXTURE_TS, {
    fileName: 'fixture.ts',
    compilerOptions: { module, target: ts.ScriptTarget.ES2022, sourceMap: true },
  });
  const code = out.outputText.replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${jsName}.map`);
  writeFileSync(join(dir, jsName), code);
  writeFileSync(join(dir, `${jsName}.map`), out.sourceMapText!);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'livetrace-stack-'));
  compile(ts.ModuleKind.CommonJS, 'fixture.cjs');
  compile(ts.ModuleKind.ESNext, 'fixture.mjs');
  // Node's own loaders (not vitest's transform), so V8 sees the files as written.
  const load = createRequire(join(dir, 'index.js'));
  cjs = load(join(dir, 'fixture.cjs')) as Fixture;
  esm = load(join(dir, 'fixture.mjs')) as Fixture; // require(esm): file:// URLs in frames
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function frameAt(frames: StackFrame[], file: string, line: number): StackFrame | undefined {
  return frames.find((frame) => frame.file === file && frame.line === line);
}

describe('captureStack', () => {
  it('maps compiled CommonJS frames back to the TypeScript source', () => {
    const frames = cjs.outerCaller(() => captureStack()) as StackFrame[];
    const ts = join(dir, 'fixture.ts');
    const inner = frameAt(frames, ts, INNER_LINE);
    const outer = frameAt(frames, ts, OUTER_LINE);
    expect(inner).toMatchObject({ fn: 'innerCallee', column: 10 });
    expect(outer).toMatchObject({ fn: 'outerCaller', column: 10 });
    expect(frames.indexOf(inner!)).toBeLessThan(frames.indexOf(outer!));
    expect(frames.some((frame) => frame.file.endsWith('fixture.cjs'))).toBe(false);
  });

  it('maps ES module frames (file:// URLs) to paths of the TypeScript source', () => {
    const frames = esm.outerCaller(() => captureStack()) as StackFrame[];
    const ts = join(dir, 'fixture.ts');
    expect(frameAt(frames, ts, INNER_LINE)).toMatchObject({ fn: 'innerCallee', column: 10 });
    expect(frameAt(frames, ts, OUTER_LINE)).toMatchObject({ fn: 'outerCaller' });
    expect(frames.every((frame) => !frame.file.startsWith('file:'))).toBe(true);
  });

  it("starts at the caller's caller, below skipUntil", () => {
    function traced(): StackFrame[] {
      return captureStack(traced);
    }
    const frames = cjs.outerCaller(traced) as StackFrame[];
    expect(frames[0]).toMatchObject({ file: join(dir, 'fixture.ts'), line: INNER_LINE, fn: 'innerCallee' });
    // A skipUntil that is not on the stack: the whole stack rather than nothing.
    expect(captureStack(function elsewhere() {}).length).toBeGreaterThan(0);
  });

  it("drops livetrace's own frames (anything under its src/ or dist/)", () => {
    const prefixes = ownFramePrefixes();
    const root = resolve(__dirname, '../../../..');
    expect(prefixes).toEqual([join(root, 'dist') + '/', join(root, 'src') + '/']);
    const wrapperFile = join(root, 'src', 'agent', 'wrapper-under-test.js');
    const wrapper = runInThisContext('(function dispatchWrapper(cb) { return cb(); })', { filename: wrapperFile }) as (cb: () => unknown) => unknown;
    const frames = cjs.outerCaller(() => wrapper(() => captureStack())) as StackFrame[];
    expect(frames.some((frame) => frame.file === wrapperFile)).toBe(false);
    expect(frames.some((frame) => frame.fn.includes('dispatchWrapper'))).toBe(false);
    expect(frameAt(frames, join(dir, 'fixture.ts'), INNER_LINE)).toBeDefined();
    expect(frames.every((frame) => !prefixes.some((prefix) => frame.file.startsWith(prefix)))).toBe(true);
  });

  it(`returns at most ${MAX_STACK_FRAMES} frames`, () => {
    const deep = (n: number): StackFrame[] => (n === 0 ? captureStack() : deep(n - 1));
    const frames = deep(50);
    expect(frames).toHaveLength(MAX_STACK_FRAMES);
    for (const frame of frames) {
      expect(typeof frame.fn).toBe('string');
      expect(typeof frame.file).toBe('string');
      expect(Number.isInteger(frame.line) && Number.isInteger(frame.column)).toBe(true);
    }
  });

  it('never runs a user prepareStackTrace and puts back exactly what was there', () => {
    const savedPrepare = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
    const savedLimit = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit');
    let calls = 0;
    try {
      const userPrepare = () => {
        calls++;
        return 'user formatting';
      };
      Error.prepareStackTrace = userPrepare;
      Error.stackTraceLimit = 2;
      const frames = captureStack();
      expect(frames.length).toBeGreaterThan(2);
      expect(Error.prepareStackTrace).toBe(userPrepare);
      expect(Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')).toEqual({ value: 2, writable: true, enumerable: true, configurable: true });

      // An accessor: neither its getter nor its setter is called, and it stays an accessor.
      const accessor = { get: () => (calls++, userPrepare), set: () => void calls++, configurable: true, enumerable: false };
      Object.defineProperty(Error, 'prepareStackTrace', accessor);
      captureStack();
      expect(Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace')).toEqual(accessor);

      // Absent before: absent after.
      delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
      captureStack();
      expect(Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace')).toBeUndefined();
      expect(calls).toBe(0);
    } finally {
      if (savedPrepare === undefined) delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
      else Object.defineProperty(Error, 'prepareStackTrace', savedPrepare);
      Object.defineProperty(Error, 'stackTraceLimit', savedLimit!);
    }
  });

  it('is not fooled by accessors a program put on Object.prototype', () => {
    let calls = 0;
    let frames: StackFrame[] = [];
    const keys = ['get', 'set', 'value', 'writable', 'enumerable', 'configurable'];
    try {
      // Nothing but captureStack runs in here: the test runner itself would trip on these.
      for (const key of keys) {
        Object.defineProperty(Object.prototype, key, { __proto__: null, get: () => calls++, configurable: true } as PropertyDescriptor);
      }
      frames = cjs.outerCaller(() => captureStack()) as StackFrame[];
    } finally {
      for (const key of keys) delete (Object.prototype as Record<string, unknown>)[key];
    }
    expect(calls).toBe(0);
    expect(frameAt(frames, join(dir, 'fixture.ts'), INNER_LINE)).toBeDefined();
    expect(Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.value).toBe(10);
  });

  it('is not fooled by a replaced global Error', () => {
    const original = Object.getOwnPropertyDescriptor(globalThis, 'Error')!;
    let calls = 0;
    const fake = {
      prepareStackTrace: () => {
        calls++;
        return 'fake';
      },
    };
    try {
      Object.defineProperty(globalThis, 'Error', { value: fake, writable: true, configurable: true });
      const frames = cjs.outerCaller(() => captureStack()) as StackFrame[];
      expect(frameAt(frames, join(dir, 'fixture.ts'), INNER_LINE)).toBeDefined();
      expect(globalThis.Error).toBe(fake);
      expect(calls).toBe(0);
    } finally {
      Object.defineProperty(globalThis, 'Error', original);
    }
  });

  it('names constructors and methods as V8 does', () => {
    class Repo {
      frames: StackFrame[] = [];
      constructor() {
        this.frames = captureStack();
      }
      save(): StackFrame[] {
        return captureStack();
      }
    }
    expect(new Repo().frames[0]!.fn).toBe('new Repo');
    expect(new Repo().save()[0]!.fn).toBe('Repo.save');
  });
});
