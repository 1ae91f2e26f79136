/**
 * Code that runs in the target never calls `Array.prototype.push` as the program left it
 * (issue 13): an attach loads livetrace into a process that may have replaced it, and a
 * replaced push would then run, or throw, inside livetrace's request handling. Arrays are
 * grown with the pristine `ArrayPrototypePush` (src/safe/intrinsics.ts) or, in
 * src/protocol (which imports no other layer), with index stores.
 *
 * The scan is textual: a `.push(` whose receiver is one of livetrace's own classes with a
 * `push` method (the session queue, the frame decoder, a session's record sink) is allowed
 * by name. The real-process check is test/integration/hardening.test.ts ('array-push').
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const TARGET_CODE = ['src/agent', 'src/pattern', 'src/safe', 'src/protocol'];
/**
 * Not scanned: the preload engine runs before the program (it is loaded first, with the
 * built-ins untouched), and the probe worker's program runs in a worker thread, a realm of
 * its own that the program's replacements do not reach; so does the observer's inspector worker.
 */
const EXEMPT = ['src/agent/engines/preload/', 'src/agent/engines/probes/worker-program.ts', 'src/agent/observer/inspector-worker.ts'];
/** Receivers whose `push` is livetrace's own method, not Array's. */
const OWN_PUSH = /\b(this\.queue|this\.decoder|this\.ctx)\.push\(/g;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('target-side code and Array.prototype.push', () => {
  it('calls no program-replaceable push', () => {
    const offenders: string[] = [];
    for (const dir of TARGET_CODE) {
      for (const file of files(join(root, dir))) {
        const rel = relative(root, file);
        if (EXEMPT.some((prefix) => rel.startsWith(prefix))) continue;
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            const code = line.replace(/^\s*(\*|\/\/).*$/, '').replace(OWN_PUSH, '');
            if (/\.push\(/.test(code)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });
});
