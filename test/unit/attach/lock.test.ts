import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquirePortLock, portLockDir } from '../../../src/attach/lock.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dir(): string {
  const path = mkdtempSync(join(tmpdir(), 'lt-lock-'));
  made.push(path);
  return path;
}

describe('inspector port lock', () => {
  it('is one per machine port for the user, whatever LIVETRACE_SOCKET_DIR each CLI has', async () => {
    const runtime = dir();
    const first = { XDG_RUNTIME_DIR: runtime, LIVETRACE_SOCKET_DIR: dir() };
    const second = { XDG_RUNTIME_DIR: runtime, LIVETRACE_SOCKET_DIR: dir() };
    expect(portLockDir(first)).toBe(portLockDir(second));
    const held = await acquirePortLock(9229, performance.now() + 5000, first);
    const file = join(portLockDir(first), 'port-9229.attach');
    expect(existsSync(file)).toBe(true);
    expect(existsSync(join(first.LIVETRACE_SOCKET_DIR, 'port-9229.attach'))).toBe(false);
    // A second CLI with its own socket directory finds it taken: past its deadline it goes
    // on with a lock that holds nothing, and releasing that leaves the first one's.
    const waited = await acquirePortLock(9229, performance.now() - 1, second);
    waited.release();
    expect(existsSync(file)).toBe(true);
    held.release();
    expect(existsSync(file)).toBe(false);
    const again = await acquirePortLock(9229, performance.now() - 1, second);
    expect(existsSync(file)).toBe(true);
    again.release();
  });
});
