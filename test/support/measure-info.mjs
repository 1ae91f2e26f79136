// Cost of `livetrace info` in a target (docs/observer.md, 'Worker threads in info'): N info
// requests on one connection; the target's CPU from /proc/<pid>/stat around them. Run from the repo
// after npm run build: node test/support/measure-info.mjs <pid> <socketDir> [n] [light]
import { readFileSync } from 'node:fs';
import { connect } from '../../dist/esm/client/index.js';
const [pid, socketDir, n = '20', light = ''] = process.argv.slice(2);
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const client = await connect(Number(pid), { socketDir });
await client.info({ light: light === 'light' });
const walls = [];
const c0 = cpu();
let cost = 0; for (let i = 0; i < Number(n); i++) { const t = performance.now(); const r = await client.info({ light: light === "light" }); cost += r.costUs; walls.push(performance.now() - t); }
const c1 = cpu();
walls.sort((a, b) => a - b);
console.log(JSON.stringify({ mode: light || 'full', n: Number(n), targetCpuMsPerInfo: (c1 - c0) / Number(n), syncCostUsMean: Math.round(cost / Number(n)), wallMsP50: walls[walls.length >> 1].toFixed(1), wallMsMax: walls.at(-1).toFixed(1) }));
await client.close();
