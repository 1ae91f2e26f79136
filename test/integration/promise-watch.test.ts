import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../fixtures/engine/unhandled.mjs', import.meta.url));

function run(traced: 'yes' | 'no', scenario: string, flags: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...flags, fixture, traced, scenario], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/\(node:\d+\)/g, '(node)') };
}

describe('watching a returned promise keeps unhandled-rejection behaviour', () => {
  // The async-* scenarios trace an async function (a Proxy wrapper); the together ones have three calls in flight at once.
  const calls: Record<string, number> = { together: 3, 'async-together': 3 };
  for (const scenario of ['unhandled', 'listener', 'awaited', 'late-catch', 'then-catch', 'async-listener', 'async-awaited', 'together', 'async-together']) {
    it(scenario, () => {
      const plain = run('no', scenario);
      const traced = run('yes', scenario);
      expect(traced.status).toBe(plain.status);
      expect(traced.stdout.replace(/settled \d+/, '')).toBe(plain.stdout.replace(/settled \d+/, ''));
      // The crash report names the same reason.
      expect(traced.stderr.includes('nobody handles me')).toBe(plain.stderr.includes('nobody handles me'));
      if (traced.stdout.includes('exit')) expect(traced.stdout).toMatch(new RegExp(`settled ${calls[scenario] ?? 1}\\b`));
    });
  }
});

describe('a rejection handled after Node reported it', () => {
  for (const scenario of ['late-turn', 'late-timer', 'late-500']) {
    it(`${scenario}: the same unhandledRejection / rejectionHandled sequence as untraced`, () => {
      const plain = run('no', scenario);
      const traced = run('yes', scenario);
      expect(plain.stdout).toMatch(/unhandled same-reason=true\ncaught after report\nrejectionHandled\n/);
      expect(traced.status).toBe(plain.status);
      expect(traced.stdout.replace(/settled \d+/, '')).toBe(plain.stdout.replace(/settled \d+/, ''));
      expect(traced.stdout).toMatch(/settled 1/);
    });
  }

  it('with --unhandled-rejections=warn and no listener: the same warnings', () => {
    const flags = ['--unhandled-rejections=warn'];
    const plain = run('no', 'late-warn', flags);
    const traced = run('yes', 'late-warn', flags);
    expect(plain.stderr).toMatch(/PromiseRejectionHandledWarning/);
    expect(traced.status).toBe(plain.status);
    expect(traced.stdout.replace(/settled \d+/, '')).toBe(plain.stdout.replace(/settled \d+/, ''));
    const warnings = (stderr: string): string[] => stderr.split('\n').filter((line) => line.includes('Warning'));
    expect(warnings(traced.stderr).map((l) => l.replace(/\d+/g, 'N'))).toEqual(warnings(plain.stderr).map((l) => l.replace(/\d+/g, 'N')));
  });
});

describe('where compiling strings is forbidden', () => {
  it('wrappers fall back to shared closures and still trace', () => {
    const r = run('yes', 'awaited', ['--disallow-code-generation-from-strings']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/caught same=true/);
    expect(r.stdout).toMatch(/settled 1/);
  });
});
