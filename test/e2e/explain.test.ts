// Runs the real CLI (`node bin/livetrace.js`, built by `npm run build`, which `npm test` does first).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/pattern/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/livetrace.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function livetrace(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, timeout: 15_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(fileURLToPath(new URL('../../dist/esm/cli/program.js', import.meta.url)))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
});

describe('livetrace explain', () => {
  it('prints each pattern in words and exits 0', async () => {
    const run = await livetrace('explain', 'src/users:findUser(nil, ...) -> stack', 'db:query(sql) when ms > 100');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const blocks = run.stdout.trimEnd().split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('pattern:    src/users:findUser(nil, ...) -> stack');
    expect(blocks[0]).toContain('  1st: nil (null or undefined)');
    expect(blocks[0]).toContain("actions:    stack (the caller's stack)");
    expect(blocks[1]).toContain('pre-guard:  none');
    expect(blocks[1]).toContain('post-guard: ms > 100 (checked after the call');
  });

  it('prints the trees as JSON with --json', async () => {
    const run = await livetrace('explain', '--json', 'm:f(NaN, X) when X > 1', 'node:fs:readFile/2');
    expect(run.code).toBe(0);
    const trees = JSON.parse(run.stdout) as unknown[];
    expect(trees).toEqual([
      {
        kind: 'pattern',
        module: 'm',
        function: 'f',
        params: { kind: 'args', patterns: [{ kind: 'number', value: 'NaN' }, { kind: 'bind', name: 'X' }], rest: false },
        guard: { kind: 'binary', operator: '>', left: { kind: 'name', name: 'X' }, right: { kind: 'number', value: 1 } },
        actions: [],
      },
      { kind: 'pattern', module: 'node:fs', function: 'readFile', params: { kind: 'arity', arity: 2 }, guard: null, actions: [] },
    ]);
  });

  it('exits 2 with the message, the pattern and a caret under the column on stderr', async () => {
    const run = await livetrace('explain', 'a:b', 'src/users:findUser(nil,, x)');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n');
    expect(lines[0]).toBe("livetrace: syntax error at column 24: expected a pattern such as _, nil, X, 42, \"a\", :string, /re/, {k: X} or [X, ...], found ',' [LT_PATTERN_SYNTAX]");
    expect(lines[1]).toBe('  src/users:findUser(nil,, x)');
    expect(lines[2]).toBe(`  ${' '.repeat(23)}^`);
    expect(lines[3]).toContain('hint:');
  });

  it('exits 2 for each kind of pattern error', async () => {
    const cases: Array<[string, string]> = [
      ['m:f(:date)', 'LT_PATTERN_UNKNOWN_TYPE'],
      ['m:f -> trace', 'LT_PATTERN_UNKNOWN_ACTION'],
      ['m:f when x', 'LT_PATTERN_UNBOUND_NAME'],
      ['m:f(/a/g)', 'LT_PATTERN_BAD_REGEX'],
      ['  ', 'LT_PATTERN_EMPTY'],
    ];
    const runs = await Promise.all(cases.map(([pattern]) => livetrace('explain', pattern)));
    runs.forEach((run, index) => {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`[${cases[index]?.[1]}]`);
    });
  });

  it('shows examples in `livetrace --help` and `livetrace explain --help`, and every example is valid', async () => {
    const [top, explain] = await Promise.all([livetrace('--help'), livetrace('explain', '--help')]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('explain');
    expect(top.stdout).toContain("livetrace explain 'src/users:findUser(nil, ...) -> stack'");
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('Examples:');
    expect(explain.stdout).toContain('--json');
    const examples = [...`${top.stdout}\n${explain.stdout}`.matchAll(/livetrace explain (?:--json )?((?:'[^']*'\s*)+)/g)].flatMap((match) =>
      [...(match[1] ?? '').matchAll(/'([^']*)'/g)].map((quoted) => quoted[1] ?? ''),
    );
    expect(examples.length).toBeGreaterThanOrEqual(6);
    for (const example of examples) expect(() => parsePattern(example), example).not.toThrow();
  });
});
