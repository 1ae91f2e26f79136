/**
 * Every shell block of README.md and docs/cli.md runs as written (recipes.test.ts does the
 * same for recipes/, with expectations). A block's fence says what it is:
 *
 *   ```sh         commands: each line runs (in bash, from the repository's root) against
 *                 the demo service, and must end by itself with status 0;
 *   ```sh setup   setting up the checkout (`npm install`): what the suite itself stands
 *                 on, so not run again here;
 *   ```text       output or a synopsis, not a command; never run.
 *
 * A block with any other fence (or none) fails the test, so a new command block can't be
 * left out silently. As in the recipes, three things differ from a reader's terminal,
 * all mechanical: `npx livetrace` and `livetrace` run as `node bin/livetrace.js` (the
 * same program, without npm's package resolution or a PATH entry), the example pid 4242
 * becomes the demo service's pid, and requests keep arriving at the service (the reader's
 * traffic) until the command ends.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../integration/attach-harness.js';
import { cleanup, repoRoot, tempDir } from '../integration/fixture-app.js';
import { cliEnv, cliPath, killClis } from './cli-process.js';

const DOCS = ['README.md', 'docs/cli.md'];

interface Block {
  info: string;
  body: string;
}

export function fencedBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(text); match !== null; match = fence.exec(text)) blocks.push({ info: match[1]!.trim(), body: match[2]! });
  return blocks;
}

function commandsOf(file: string): string[] {
  const commands: string[] = [];
  for (const block of fencedBlocks(readFileSync(join(repoRoot, file), 'utf8'))) {
    if (block.info === 'text' || block.info === 'sh setup') continue;
    if (block.info !== 'sh') throw new Error(`${file}: a block fenced '${block.info}' is neither sh, sh setup nor text`);
    for (const line of block.body.split('\n')) if (line.trim() !== '' && !line.trim().startsWith('#')) commands.push(line);
  }
  return commands;
}

function localize(command: string, pid: string): string {
  const cli = `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)}`;
  return command
    .replace(/\bnpx livetrace\b/g, cli)
    .replace(/(^|[|;&]\s*)livetrace\b/g, `$1${cli}`)
    .replace(/^node bin\/livetrace\.js\b/, cli)
    .replace(/\b4242\b/g, pid);
}

interface Running {
  output(): string;
  done: Promise<number | null>;
  kill(): void;
}

const running = new Set<Running>();

function run(command: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn('bash', ['-c', command], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const handle: Running = {
    output: () => output,
    done: new Promise((resolve) => child.once('close', (code) => resolve(code))),
    kill: () => void child.kill('SIGKILL'),
  };
  running.add(handle);
  void handle.done.then(() => running.delete(handle));
  return handle;
}

async function waitFor(handle: Running, pattern: RegExp, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pattern.test(handle.output())) {
    if (Date.now() > end) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${handle.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Requests to every route of the demo, round and round, until `stop` says so. */
async function traffic(port: number, stop: () => boolean): Promise<void> {
  const paths = ['/users/1', '/orders/4/owner', '/orders/1/owner', '/orders/9/total', '/orders/2/total'];
  for (let i = 0; !stop(); i++) {
    await fetch(`http://127.0.0.1:${port}${paths[i % paths.length]}`).then((r) => r.text()).catch(() => undefined);
  }
}

afterEach(async () => {
  for (const handle of running) handle.kill();
  running.clear();
  await killClis();
});
afterAll(cleanup);

describe('command blocks of the documentation', () => {
  it('are found, and every block is marked', () => {
    const commands = DOCS.flatMap(commandsOf);
    expect(commands.length).toBeGreaterThanOrEqual(4);
  });

  it.each(DOCS.flatMap((file) => commandsOf(file).map((command) => [file, command] as const)))('%s: %s', async (_, command) => {
    const socketDir = tempDir();
    const port = await freePort();
    const service = run(
      `exec env DEMO_PORT=${port} ${JSON.stringify(process.execPath)} --import ${JSON.stringify(join(repoRoot, 'dist/esm/register.js'))} recipes/demo/src/server.js`,
      cliEnv(socketDir),
    );
    await waitFor(service, /^demo listening on http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)$/m, 10_000);
    const pid = /\(pid (\d+)\)/.exec(service.output())![1]!;
    const shell = run(localize(command, pid), cliEnv(socketDir));
    let ended = false;
    const sending = traffic(port, () => ended);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${command} did not end:\n${shell.output()}`)), 30_000).unref());
    try {
      const code = await Promise.race([shell.done, timeout]);
      expect(code, shell.output()).toBe(0);
    } finally {
      ended = true;
      await sending;
    }
  });
});
