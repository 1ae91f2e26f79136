import { Session } from 'node:inspector';
import { describe, expect, it } from 'vitest';
import { checkForeignDebugger } from '../../../../../src/agent/engines/probes/foreign-debugger.js';

function post(session: Session, method: string): void {
  session.post(method, {}, () => {});
}

describe('checkForeignDebugger', () => {
  it('sees a session that enables the Debugger, and no longer once it disables it', () => {
    expect(checkForeignDebugger().busy).toBe(false);
    const other = new Session();
    other.connect();
    try {
      post(other, 'Debugger.enable');
      const during = checkForeignDebugger();
      expect(during.busy).toBe(true);
      expect(during.evidence).toMatch(/compilation cache is off/);
      post(other, 'Debugger.disable');
      expect(checkForeignDebugger().busy).toBe(false);
    } finally {
      other.disconnect();
    }
  });

  it('is not fooled by a session that only profiles', () => {
    const other = new Session();
    other.connect();
    try {
      post(other, 'Profiler.enable');
      post(other, 'Runtime.enable');
      expect(checkForeignDebugger().busy).toBe(false);
    } finally {
      other.disconnect();
    }
  });
});
