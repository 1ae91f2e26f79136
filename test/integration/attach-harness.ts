/**
 * Targets for attach: the plain apps of test/fixtures/plain started with bare `node`
 * (through fixture-app.ts, so cleanup() kills them), a target started plain and then
 * attached (`launchAttached`, the hook for running a suite against an attached target
 * instead of a preloaded one), and the CLI run as a separate process.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { attach, type AttachResult } from '../../src/attach/attach.js';
import { launchApp, repoRoot, tempDir, type LaunchOptions, type RunningApp } from './fixture-app.js';

export const plainApps = {
  esm: join(repoRoot, 'test/fixtures/plain/app.mjs'),
  cjs: join(repoRoot, 'test/fixtures/plain/app.cjs'),
} as const;

export type PlainKind = keyof typeof plainApps;

/** Starts a plain fixture app with `node [nodeArgs] app` and no livetrace flag. */
export function launchPlain(kind: PlainKind, options: Omit<LaunchOptions, 'preload'> = {}): Promise<RunningApp> {
  return launchApp([plainApps[kind]], { ...options, preload: 'none' });
}

/**
 * Starts `script` (as launchApp takes it) without any preload, then attaches. The
 * inspector port is picked by the target (--inspect-port=0) where /proc lets attach find
 * it, so parallel suites never compete for 9229.
 */
export async function launchAttached(
  script: string | string[],
  options: Omit<LaunchOptions, 'preload'> = {},
): Promise<RunningApp & { attached: AttachResult }> {
  const port = process.platform === 'linux' ? 0 : await freePort();
  const app = await launchApp(script, { ...options, preload: 'none', nodeArgs: [`--inspect-port=${port}`, ...(options.nodeArgs ?? [])] });
  const attached = await attach(app.pid, { socketDir: app.socketDir });
  return Object.assign(app, { attached });
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = await listenOn(0);
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP server on 127.0.0.1:port (0: any free port); close it when done. */
export function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawning the CLI to its exit, ms. */
  ms: number;
}

export const cliPath = join(repoRoot, 'bin/livetrace.js');

/**
 * A copy of the built package that every user can read: bin/, dist/, package.json and the
 * runtime dependencies (those package-lock.json does not mark dev). A CLI run as another
 * user (uid 65534) cannot read a checkout cloned into a private directory, and CI's clone
 * may be one; this copy lives in the system temp dir, removed by cleanup().
 */
export function publicPackageCopy(): string {
  const root = tempDir('lt-public-');
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const runtime = Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev !== true)
    .map(([path]) => path);
  for (const path of ['package.json', 'bin', 'dist', ...runtime]) cpSync(join(repoRoot, path), join(root, path), { recursive: true });
  openToAll(root);
  return root;
}

function openToAll(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) openToAll(join(path, name));
  } else {
    chmodSync(path, stat.mode | 0o444);
  }
}

export interface RunCliOptions {
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
  /** The package to run the CLI from (default this checkout); also the CLI's working directory. */
  packageRoot?: string;
}

/** Runs `livetrace ...args` from dist/ and collects its output. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const root = options.packageRoot ?? repoRoot;
    const child = spawn(process.execPath, [join(root, 'bin/livetrace.js'), ...args], {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: options.uid,
      gid: options.gid,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`livetrace ${args.join(' ')} did not exit; stdout: ${stdout}; stderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
