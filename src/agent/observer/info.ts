/**
 * One `info` snapshot of this process: the counters Node keeps (memory, CPU, handles,
 * modules) read now, plus the interval figures of the connection's Sampler. Everything
 * read here is a Node or V8 API, never user code; the module and package counts walk the
 * CommonJS cache keys and the preload's ES module list, not the modules themselves.
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { ProcessInfo } from '../../protocol/observer.js';
import { cjsCacheFiles, cjsCacheStamp, sourceModules } from '../catalog/modules.js';
import { activeSessions } from '../session/session.js';
import type { IntervalSample } from './sampler.js';

export interface InfoOptions {
  /** Leave out heap spaces, resources and modules (top's light info). */
  light?: boolean;
}

export function processInfo(sample: IntervalSample | null, options: InfoOptions = {}): Omit<ProcessInfo, 'costUs' | 'workers'> {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  const light = options.light === true;
  return {
    pid: process.pid,
    node: process.version,
    argv: [...process.argv],
    execArgv: [...process.execArgv],
    nodeOptions: process.env.NODE_OPTIONS ?? null,
    uptimeMs: Math.round(process.uptime() * 1000),
    intervalMs: sample === null ? null : sample.intervalMs,
    cpu: { userUs: cpu.user, systemUs: cpu.system, percent: sample === null ? null : sample.cpuPercent },
    memory: {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      heapLimit: getHeapStatistics().heap_size_limit,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      spaces: light
        ? []
        : getHeapSpaceStatistics().map((space) => ({
            name: space.space_name,
            used: space.space_used_size,
            size: space.space_size,
            available: space.space_available_size,
          })),
    },
    gc: sample === null ? null : sample.gc,
    loop: { utilization: sample === null ? null : sample.utilization, delay: sample === null ? null : sample.delay },
    resources: light ? {} : resourceCounts(),
    modules: light ? { cjs: 0, esm: 0, packages: [] } : moduleCounts(),
    sessions: activeSessions().length,
  };
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/**
 * The module counts walk every loaded file (a few hundred in an app): a tenth of a
 * millisecond per info, for figures that change only when a module loads. So they are
 * kept with the stamp of what they were counted from, and counted again when it changes.
 */
let counted: { stamp: string; modules: ProcessInfo['modules'] } | undefined;

function moduleCounts(): ProcessInfo['modules'] {
  const esm = sourceModules({ cheap: true });
  const last = esm[esm.length - 1];
  const stamp = `${cjsCacheStamp()}\0${esm.length}\0${last?.file ?? last?.ref.id ?? ''}`;
  if (counted === undefined || counted.stamp !== stamp) counted = { stamp, modules: countModules(esm) };
  const { cjs, esm: esmCount, packages } = counted.modules;
  return { cjs, esm: esmCount, packages: [...packages] };
}

function countModules(esmModules: ReturnType<typeof sourceModules>): ProcessInfo['modules'] {
  const cacheKeys = cjsCacheFiles();
  const packages = new Set<string>();
  for (const file of cacheKeys) {
    const name = packageOf(file);
    if (name !== undefined) packages.add(name);
  }
  let esm = 0;
  const cjsFiles = new Set(cacheKeys);
  for (const module of esmModules) {
    if (module.ref.kind === 'builtin' || (module.file !== undefined && cjsFiles.has(module.file))) continue;
    esm++;
    if (module.ref.packageName !== undefined) packages.add(module.ref.packageName);
  }
  // An ES main module without the preload is known to nobody but argv; it still counts.
  const main = process.argv[1];
  if (esm === 0 && main !== undefined && /\.(mjs|mts)$/.test(main)) esm = 1;
  return { cjs: cacheKeys.length, esm, packages: [...packages].sort() };
}

/** 'express' for '.../node_modules/express/lib/router.js', '@scope/name' for a scoped one. */
function packageOf(file: string): string | undefined {
  const at = file.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const [first, second] = file.slice(at + '/node_modules/'.length).split('/');
  if (first === undefined || second === undefined) return undefined;
  return first.startsWith('@') ? `${first}/${second}` : first;
}
