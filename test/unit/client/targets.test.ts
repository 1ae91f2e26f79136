import { describe, expect, it } from 'vitest';
import { commandLineGlob, descendantsOf, parsePidList } from '../../../src/client/targets.js';

describe('naming several targets', () => {
  it('parses a pid list, dropping repeats, and names a bad entry', () => {
    expect(parsePidList('4242,4243, 4244,4242')).toEqual([4242, 4243, 4244]);
    expect(() => parsePidList('4242,x1')).toThrow(/'x1' is not a process id \(in '4242,x1'\)/);
    expect(() => parsePidList('4242,')).toThrow(/LT_PID_NOT_FOUND|is not a process id/);
  });

  it('finds every descendant through non-Node parents, breadth first', () => {
    // 10 -> 11 (sh) -> 13 (node); 10 -> 12; 20 is elsewhere.
    const parents = new Map([[10, 1], [11, 10], [12, 10], [13, 11], [20, 1]]);
    expect(descendantsOf(10, parents)).toEqual([10, 11, 12, 13]);
    expect(descendantsOf(20, parents)).toEqual([20]);
  });

  it('matches command lines with shell wildcards that cross / and spaces', () => {
    const glob = commandLineGlob('*server.js*');
    expect(glob.test('node /srv/app/server.js --port 80')).toBe(true);
    expect(glob.test('node /srv/app/worker.js')).toBe(false);
    expect(commandLineGlob('node app.?s').test('node app.js')).toBe(true);
    expect(commandLineGlob('node (a)+[b]').test('node (a)+[b]')).toBe(true);
  });
});
