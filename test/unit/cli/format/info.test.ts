/** How an info snapshot reads on a terminal. */
import { describe, expect, it } from 'vitest';
import { formatBytes, renderInfo } from '../../../../src/cli/format/info.js';
import type { ProcessInfo } from '../../../../src/protocol/observer.js';

const info: ProcessInfo = {
  pid: 4242,
  node: 'v20.20.2',
  argv: ['/usr/bin/node', 'app.js'],
  execArgv: ['--max-old-space-size=512'],
  nodeOptions: '--enable-source-maps',
  uptimeMs: 90_000,
  intervalMs: 1000,
  cpu: { userUs: 1_500_000, systemUs: 250_000, percent: 12.345 },
  memory: {
    rss: 100 * 1048576,
    heapUsed: 50 * 1048576,
    heapTotal: 64 * 1048576,
    heapLimit: 512 * 1048576,
    external: 1536,
    arrayBuffers: 0,
    spaces: [{ name: 'old_space', used: 40 * 1048576, size: 48 * 1048576, available: 0 }],
  },
  gc: { count: 3, pauseMs: 4.5, byKind: { minor: { count: 2, pauseMs: 1.5 }, major: { count: 1, pauseMs: 3 } } },
  loop: { utilization: 0.5, delay: { p50: 10.2, p99: 61, max: 64, mean: 20, resolutionMs: 10 } },
  resources: { Timeout: 3, TCPServerWrap: 1 },
  modules: { cjs: 40, esm: 2, packages: ['express'] },
  sessions: 1,
  workers: [
    { threadId: 1, title: '[worker 1]', url: '', utilization: 0.5, sinceStart: false },
    { threadId: 3, title: 'resizer', url: '', utilization: null, sinceStart: true },
  ],
  costUs: 180,
};

describe('renderInfo', () => {
  it('prints one line per concern with units', () => {
    const text = renderInfo(info);
    expect(text).toMatch(/^process 4242 {2}node v20\.20\.2 {2}up 1m30s {2}livetrace sessions 1$/m);
    expect(text).toMatch(/^ {2}flags +--max-old-space-size=512 NODE_OPTIONS='--enable-source-maps'$/m);
    expect(text).toMatch(/^ {2}cpu +user 1\.5s {2}system 250ms {2}12\.3% over 1s$/m);
    expect(text).toMatch(/^ {2}memory +rss 100M {2}heap 50M\/64M \(limit 512M\) {2}external 1\.5K {2}array buffers 0B$/m);
    expect(text).toMatch(/^ {4}old_space +40M used of 48M$/m);
    expect(text).toMatch(/^ {2}gc +3 collections, 4\.5ms paused over 1s: minor 2 \(1\.5ms\) {2}major 1 \(3ms\)$/m);
    expect(text).toMatch(/^ {2}loop +utilization 50\.0% {2}delay p50 10ms {2}p99 61ms {2}max 64ms \(10ms timer\) over 1s$/m);
    expect(text).toMatch(/^ {2}handles +TCPServerWrap 1 {2}Timeout 3$/m);
    expect(text).toMatch(/^ {2}modules +40 CommonJS, 2 ES, 1 package \(express\)$/m);
    expect(text).toMatch(/^ {2}workers +#1 \[worker 1\] loop 50\.0% over 1s {2}#3 resizer no answer$/m);
    expect(text).toMatch(/^ {2}cost +180µs/m);
  });

  it('leaves out the interval lines of a first snapshot', () => {
    const text = renderInfo({ ...info, intervalMs: null, gc: null, cpu: { ...info.cpu, percent: null }, loop: { utilization: null, delay: null } });
    expect(text).not.toMatch(/^ {2}(gc|loop) /m);
    expect(text).toMatch(/^ {2}cpu +user 1\.5s {2}system 250ms$/m);
  });

  it('escapes what the process says about itself', () => {
    expect(renderInfo({ ...info, argv: ['node', '\u001b[31mred'] })).not.toContain('\u001b');
  });
});

describe('formatBytes', () => {
  it('uses binary units with about three digits', () => {
    expect([0, 1023, 1536, 52_428_800, 2 ** 31, -1].map(formatBytes)).toEqual(['0B', '1023B', '1.5K', '50M', '2G', '?']);
  });
});
