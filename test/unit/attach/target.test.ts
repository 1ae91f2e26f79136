import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dispositionOf, inspectTarget, looksLikeNode } from '../../../src/attach/target.js';

describe('dispositionOf', () => {
  // Masks read from real Node 20 processes: with its SIGUSR1 handler, and after an app
  // added and removed a SIGUSR1 listener (which resets the signal to its default).
  const status = (caught: string, ignored = '0000000001001000'): string => `Name:\tnode\nSigIgn:\t${ignored}\nSigCgt:\t${caught}\n`;

  it('reads SIGUSR1 (signal 10) from the SigCgt and SigIgn masks', () => {
    expect(dispositionOf(status('0000000100004602'), 10)).toBe('caught');
    expect(dispositionOf(status('0000000100004402'), 10)).toBe('default');
    expect(dispositionOf(status('0000000100004402', '0000000001001200'), 10)).toBe('ignored');
    expect(dispositionOf('Name:\tnode\n', 10)).toBe('unknown');
  });
});

describe('looksLikeNode', () => {
  it('goes by the executable name, then by argv[0]', () => {
    for (const exe of ['/usr/bin/node', '/usr/bin/nodejs', '/home/u/.nvm/versions/node/v20.19.0/bin/node', '/opt/node20']) {
      expect(looksLikeNode({ exe, argv: [] })).toBe(true);
    }
    expect(looksLikeNode({ exe: '/usr/bin/sleep', argv: ['node'] })).toBe(false);
    expect(looksLikeNode({ exe: undefined, argv: ['node', 'app.js'] })).toBe(true);
    expect(looksLikeNode({ exe: undefined, argv: [] })).toBe(false);
    expect(looksLikeNode({ exe: '/usr/bin/python3', argv: [] })).toBe(false);
  });
});

describe('inspectTarget', () => {
  it('refuses ids that kill() would treat as process groups', async () => {
    for (const pid of [0, -1, 1.5, Number.NaN]) {
      await expect(inspectTarget(pid)).rejects.toMatchObject({ code: 'LT_PID_NOT_FOUND' });
    }
  });

  it('refuses to attach to itself', async () => {
    await expect(inspectTarget(process.pid)).rejects.toMatchObject({ code: 'LT_ATTACH_FAILED' });
  });

  it.runIf(process.platform === 'linux')('reads a live Node process: executable, options from both places, SIGUSR1 caught', async () => {
    const child = spawn(process.execPath, ['--inspect-port=9876', '-e', 'console.log("ready"); setInterval(() => {}, 1000)'], {
      env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=200 --inspect-port=9875' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise((resolve, reject) => {
        child.stdout!.once('data', resolve);
        child.once('exit', reject);
      });
      const target = await inspectTarget(child.pid!);
      expect(target.exe).toBe(process.execPath);
      expect(target.env?.NODE_OPTIONS).toBe('--max-old-space-size=200 --inspect-port=9875');
      expect(target.launch.inspector).toEqual({ host: '127.0.0.1', port: 9876 });
      expect(target.launch.inspectorSource).toBe('argv');
      expect(target.sigusr1).toBe('caught');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
