// Heap of a target whose trace readers stall: N raw clients each start a trace of a hot
// function (test/fixtures/apps/stalled.cjs, preloaded from dist/cjs, so `npm run build`
// first) and never read. Prints the target's heap after a full GC before and while they
// stall, in MB:   node scripts/stalled-readers.mjs [clients]   (default 30, at most 32)
// docs/security.md quotes its figures. Not a test: the figures depend on the machine.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clients = Number(process.argv[2] || 30);
const socketDir = mkdtempSync(join(tmpdir(), 'lt-stalled-'));
const child = spawn(process.execPath, ['--expose-gc', '--require', join(root, 'dist/cjs/register.js'), 'stalled.cjs'], {
  cwd: join(root, 'test/fixtures/apps'),
  env: { ...process.env, LIVETRACE_SOCKET_DIR: socketDir },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (data) => (out += data));
const line = (re) =>
  new Promise((resolve) => {
    const look = () => {
      const match = re.exec(out);
      if (match) {
        out = out.slice(match.index + match[0].length);
        resolve(match);
      } else setTimeout(look, 20);
    };
    look();
  });
const heapMb = async () => {
  out = '';
  return (Number((await line(/heap (\d+)\n/))[1]) / 2 ** 20).toFixed(1);
};
try {
  const pid = (await line(/ready (\d+)\n/))[1];
  await new Promise((resolve) => setTimeout(resolve, 500));
  console.log(`baseline heap ${await heapMb()} MB`);
  for (let i = 0; i < clients; i++) {
    const socket = connect(join(socketDir, `${pid}.sock`));
    await new Promise((resolve) => socket.once('connect', resolve));
    let replies = 0;
    const started = new Promise((resolve) => socket.on('data', (d) => (replies += String(d).split('\n').length - 1) >= 2 && resolve()));
    socket.write(JSON.stringify({ id: 0, op: 'hello', protocol: 1, client: { name: 'stalled', version: '0' } }) + '\n');
    socket.write(JSON.stringify({ id: 1, op: 'trace', patterns: ['stalled:work'], options: { max: 1e9, rate: false, for: '60s', overloadMsPerSec: 1000 } }) + '\n');
    await started;
    socket.pause();
  }
  for (let i = 1; i <= 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    console.log(`${clients} stalled readers, ${i * 1.5} s: heap ${await heapMb()} MB`);
  }
} finally {
  child.kill();
  rmSync(socketDir, { recursive: true, force: true });
}
