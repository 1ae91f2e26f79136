/**
 * A real redis-server for the fleet tests: Debian's package (`.ci/run` installs it), on a
 * free loopback port, with a password, no persistence, in a temp directory. Started on its
 * readiness line, stopped (SIGKILL, as a crash would) and restarted on the same port for
 * the restart test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Output } from './process.js';

export interface RedisServer {
  port: number;
  password: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Kills it and starts a new one on the same port (empty: no persistence). */
  restart(): Promise<void>;
}

async function spawnRedis(port: number, password: string, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = new Output(`redis-server on ${port}`);
  out.read(child.stdout!);
  await out.waitFor(/Ready to accept connections/, { timeoutMs: 15_000 });
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export async function startRedis(port: number, dir: string, password = 'lt-test-password'): Promise<RedisServer> {
  const server: RedisServer = {
    port,
    password,
    url: `redis://:${password}@127.0.0.1:${port}`,
    child: await spawnRedis(port, password, dir),
    stop: () => kill(server.child),
    restart: async () => {
      await kill(server.child);
      server.child = await spawnRedis(port, password, dir);
    },
  };
  return server;
}
