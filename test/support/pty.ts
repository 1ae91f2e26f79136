/**
 * A command in a pseudo-terminal (test/support/pty-run.py: keys in, screen out; no native
 * dependency). Each step either sends keys or waits for a regex on the screen text that
 * came since the previous wait.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export interface PtyStep {
  expect?: string;
  send?: string;
  /** Seconds to wait for `expect` (20 by default). */
  timeout?: number;
}

export function inPty(argv: string[], env: Record<string, string>, steps: PtyStep[]): Promise<{ code: number | null; transcript: string }> {
  const spec = JSON.stringify({ argv, env, steps, cols: 120, rows: 40 });
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [join(repoRoot, 'test/support/pty-run.py'), spec], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, transcript: out });
    });
  });
}
