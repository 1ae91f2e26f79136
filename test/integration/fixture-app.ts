/**
 * Starting the fixture apps of test/fixtures/apps as real processes, with or without the
 * agent preloaded from dist/, each with its own temporary socket directory; and a raw
 * socket peer for speaking the protocol byte by byte. Every process and directory made
 * here is tracked and removed by `cleanup()` (call it in afterEach).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameDecoder } from '../../src/protocol/frame.js';
import { repoRoot } from '../support/paths.js';
import { Output, type LineMatch } from '../support/process.js';

export { repoRoot };
export const appsDir = join(repoRoot, 'test/fixtures/apps');
export const registerEsm = join(repoRoot, 'dist/esm/register.js');
export const registerCjs = join(repoRoot, 'dist/cjs/register.js');

export type Preload = 'import' | 'require' | 'node-options-import' | 'node-options-require' | 'none';

export interface LaunchOptions {
  preload?: Preload;
  /** Extra environment; LIVETRACE_SOCKET_DIR is set to `socketDir`. */
  env?: Record<string, string>;
  /** Socket directory; a fresh private temp dir by default. */
  socketDir?: string;
  /** Node arguments placed before the preload flag and the script. */
  nodeArgs?: string[];
  /** The line that means the app is up (default /^ready \d+/); null to not wait. */
  ready?: RegExp | null;
  timeoutMs?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() of the 'exit' event in the test process. */
  at: number;
}

export interface RunningApp {
  child: ChildProcess;
  pid: number;
  socketDir: string;
  socketPath: string;
  /** Stdout lines so far. */
  lines: string[];
  stderr: () => string;
  /** Stdout, for waits past what waitForLine offers (from a line index on). */
  stdout: Output;
  /** Resolves with the first stdout line (past or future) matching `pattern`, with its arrival time. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<LineMatch>;
  exited: Promise<Exit>;
  kill(signal?: NodeJS.Signals): Promise<Exit>;
}

const tracked = { apps: new Set<RunningApp>(), dirs: new Set<string>(), sockets: new Set<Socket>() };

/** A private (0700) temp directory, removed by cleanup(). */
export function tempDir(prefix = 'lt-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tracked.dirs.add(dir);
  return dir;
}

/**
 * The NestJS app of test/fixtures/frameworks/nest, compiled by the repository's tsc (as
 * `nest build` does: decorators, decorator metadata, source maps) into `<dir>/dist/`, in a
 * private temp copy whose node_modules is the repository's. Built at test time, never
 * committed, so what runs is always what src/ says. About 4 s of CPU (tsc reads Nest's and
 * Node's type declarations). The caller removes `dir` (afterAll), since cleanup() runs
 * after every test.
 */
export function buildNestApp(): { dir: string; main: string; traced: string } {
  const source = join(repoRoot, 'test/fixtures/frameworks/nest');
  const dir = mkdtempSync(join(tmpdir(), 'lt-nest-'));
  for (const entry of ['src', 'tsconfig.json', 'package.json', 'traced.cjs']) cpSync(join(source, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'pipe' });
  return { dir, main: join(dir, 'dist/main.js'), traced: join(dir, 'traced.cjs') };
}

function preloadArgs(preload: Preload): { args: string[]; nodeOptions?: string } {
  switch (preload) {
    case 'import':
      return { args: ['--import', registerEsm] };
    case 'require':
      return { args: ['--require', registerCjs] };
    case 'node-options-import':
      return { args: [], nodeOptions: `--import=${registerEsm}` };
    case 'node-options-require':
      return { args: [], nodeOptions: `--require=${registerCjs}` };
    case 'none':
      return { args: [] };
  }
}

/** Starts `script` (a file in test/fixtures/apps, or ['-e', code]) and waits for its ready line. */
export async function launchApp(script: string | string[], options: LaunchOptions = {}): Promise<RunningApp> {
  const socketDir = options.socketDir ?? tempDir();
  const { args, nodeOptions } = preloadArgs(options.preload ?? 'import');
  const scriptArgs = typeof script === 'string' ? [join(appsDir, script)] : script;
  const env: NodeJS.ProcessEnv = { ...process.env, LIVETRACE_SOCKET_DIR: socketDir, ...options.env };
  delete env.NODE_OPTIONS;
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args, ...scriptArgs], {
    cwd: appsDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = new Output('stderr');
  stderr.read(child.stderr!);
  const stdout = new Output(`stdout of ${scriptArgs.join(' ')}`, () => `stderr: ${stderr.tail()}`);
  stdout.read(child.stdout!);
  let killedByTest = false;
  const exited = new Promise<Exit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      // Soak runs (LT_TEST_EXITS=<file>) log every target that ended before the test ended it, with why.
      const log = process.env.LT_TEST_EXITS;
      if (log !== undefined && log !== '' && !killedByTest) {
        appendFileSync(log, `${new Date().toISOString()} ${process.version} pid ${child.pid} ${scriptArgs.join(' ')} exited code=${code} signal=${signal}\nstderr: ${stderr.text.slice(-4000)}\n\n`);
      }
      resolveExit({ code, signal, at: performance.now() });
    });
  });
  const waitForLine = (pattern: RegExp, timeoutMs = options.timeoutMs ?? 10_000) => stdout.waitForLine(pattern, { timeoutMs });
  const app: RunningApp = {
    child,
    pid: child.pid!,
    socketDir,
    socketPath: join(socketDir, `${child.pid}.sock`),
    lines: stdout.lines,
    stdout,
    stderr: () => stderr.text,
    waitForLine,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) {
        killedByTest = true;
        child.kill(signal);
      }
      return exited;
    },
  };
  tracked.apps.add(app);
  const ready = options.ready === undefined ? /^ready \d+/ : options.ready;
  if (ready) await waitForLine(ready);
  return app;
}

/** Resolves once `path` exists and accepts connections (the agent listens after the app's first line may be out). */
export async function waitForSocket(path: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolveTry) => {
      const socket = connect(path);
      socket.once('connect', () => {
        socket.destroy();
        resolveTry(true);
      });
      socket.once('error', () => resolveTry(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`no agent on ${path} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A protocol peer without the client library: raw writes, decoded frames. */
export interface RawPeer {
  socket: Socket;
  send(value: unknown): void;
  sendRaw(data: string | Buffer): void;
  /** The next frame the agent sent, in order. Rejects when the connection closes first. */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Frames until one satisfies `until` (included). */
  collect(until: (frame: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  closed: Promise<void>;
  /** hello and its reply. */
  hello(): Promise<Record<string, unknown>>;
  /** Frames received and not yet read by next(), removed from the queue. */
  received(): Record<string, unknown>[];
}

export function rawPeer(path: string): Promise<RawPeer> {
  return new Promise((resolvePeer, reject) => {
    const socket = connect(path);
    tracked.sockets.add(socket);
    const decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 });
    const frames: Record<string, unknown>[] = [];
    let wake: (() => void) | undefined;
    let isClosed = false;
    const closed = new Promise<void>((r) =>
      socket.once('close', () => {
        isClosed = true;
        wake?.();
        r();
      }),
    );
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame; frame = decoder.next()) frames.push(frame.value as Record<string, unknown>);
      wake?.();
    });
    const next = async (timeoutMs = 5000): Promise<Record<string, unknown>> => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const frame = frames.shift();
        if (frame) return frame;
        if (isClosed) throw new Error('connection closed');
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, left);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            r();
          };
        });
      }
    };
    let nextId = 1000;
    const peer: RawPeer = {
      socket,
      send: (value) => socket.write(JSON.stringify(value) + '\n'),
      sendRaw: (data) => socket.write(data),
      next,
      collect: async (until, timeoutMs = 5000) => {
        const out: Record<string, unknown>[] = [];
        for (;;) {
          const frame = await next(timeoutMs);
          out.push(frame);
          if (until(frame)) return out;
        }
      },
      closed,
      received: () => frames.splice(0),
      hello: async () => {
        const id = nextId++;
        peer.send({ id, op: 'hello', protocol: 1, client: { name: 'test', version: '0' } });
        return next();
      },
    };
    socket.once('connect', () => resolvePeer(peer));
    socket.once('error', reject);
  });
}

/** Kills every process started here, closes raw peers and removes temp dirs. */
export async function cleanup(): Promise<void> {
  for (const socket of tracked.sockets) socket.destroy();
  tracked.sockets.clear();
  await Promise.all([...tracked.apps].map((app) => app.kill()));
  tracked.apps.clear();
  for (const dir of tracked.dirs) rmSync(dir, { recursive: true, force: true });
  tracked.dirs.clear();
}
