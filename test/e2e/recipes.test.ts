/**
 * Runs every recipe in recipes/*.md the way a reader would, and checks the key lines of
 * what the commands print. A recipe marks its shell blocks by their fence info:
 *
 *   ```sh recipe-service   the service the recipe traces (terminal 1): started first, in
 *                          the background, until its readiness line; killed at the end.
 *   ```sh recipe           a livetrace command (terminal 2); it must end by itself.
 *   ```text recipe-input   lines typed into the running command, then an 'added' line is awaited.
 *   ```sh recipe-traffic   requests sent (terminal 3) once the command is tracing.
 *   <!-- expect: REGEX --> a line the output (stdout and stderr) of the last command must
 *                          have (a JavaScript regex, multiline); `expect-not:` one it must not.
 *
 * Three things differ from a reader's terminal, all mechanical: `npx livetrace` runs as
 * `node bin/livetrace.js` (the same program, without npm's package resolution), port 3000
 * becomes a free port, and $PID is set to the pid the service printed.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../integration/attach-harness.js';
import { cleanup, repoRoot, tempDir } from '../integration/fixture-app.js';
import { Output } from '../support/process.js';
import { cliEnv, cliPath, killClis } from './cli-process.js';

interface Step {
  command: string;
  input: string[];
  traffic: string[];
  expect: RegExp[];
  expectNot: RegExp[];
}

interface Recipe {
  file: string;
  service: string;
  steps: Step[];
}

const recipesDir = join(repoRoot, 'recipes');

/** The marked blocks and expectations of a recipe, in order. */
export function parseRecipe(file: string, text: string): Recipe {
  const recipe: Recipe = { file, service: '', steps: [] };
  const token = /```(\w+) (recipe[\w-]*)\n([\s\S]*?)```|<!-- (expect|expect-not): (.*?) -->/g;
  for (let match = token.exec(text); match !== null; match = token.exec(text)) {
    const [, , kind, body, expectKind, expectBody] = match;
    const step = recipe.steps.at(-1);
    if (expectKind !== undefined) {
      if (step === undefined) throw new Error(`${file}: an expectation before any recipe command`);
      (expectKind === 'expect' ? step.expect : step.expectNot).push(new RegExp(expectBody!, 'm'));
      continue;
    }
    const content = body!.trimEnd();
    if (kind === 'recipe-service') recipe.service = content;
    else if (kind === 'recipe') recipe.steps.push({ command: content, input: [], traffic: [], expect: [], expectNot: [] });
    else if (step === undefined) throw new Error(`${file}: a ${kind} block before any recipe command`);
    else if (kind === 'recipe-input') step.input.push(...content.split('\n'));
    else if (kind === 'recipe-traffic') step.traffic.push(content);
    else throw new Error(`${file}: unknown block kind ${kind}`);
  }
  return recipe;
}

function localize(command: string, port: number): string {
  return command.replaceAll('npx livetrace', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)}`).replaceAll('3000', String(port));
}

interface Shell {
  output(): string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  send(text: string): void;
  done: Promise<number | null>;
}

function shell(command: string, env: NodeJS.ProcessEnv): Shell {
  const child = spawn('bash', ['-c', command], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
  // stdout and stderr as one terminal shows them.
  const output = new Output(`the output of ${command}`).read(child.stdout).read(child.stderr);
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  running.add(child);
  void done.then(() => running.delete(child));
  return {
    output: () => output.text,
    send: (text) => void child.stdin.write(text),
    done,
    waitFor: async (pattern, timeoutMs) => void (await output.waitFor(pattern, { timeoutMs })),
  };
}

const running = new Set<ReturnType<typeof spawn>>();

afterEach(async () => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  await killClis();
});
afterAll(cleanup);

const files = readdirSync(recipesDir).filter((name) => name.endsWith('.md') && name !== 'README.md');

describe('recipes', () => {
  it('are all found and each has a service and commands with expectations', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      const recipe = parseRecipe(file, readFileSync(join(recipesDir, file), 'utf8'));
      expect(recipe.service, file).not.toBe('');
      expect(recipe.steps.length, file).toBeGreaterThan(0);
      for (const step of recipe.steps) expect(step.expect.length, `${file}: ${step.command}`).toBeGreaterThan(0);
    }
  });

  it.each(files)('%s works as written', async (file) => {
    const recipe = parseRecipe(file, readFileSync(join(recipesDir, file), 'utf8'));
    const socketDir = tempDir();
    const port = await freePort();
    // `exec env A=b cmd`: the service replaces the shell, so killing the shell kills it.
    const service = shell(`exec env ${localize(recipe.service, port)}`, cliEnv(socketDir));
    await service.waitFor(/^demo listening on http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)$/m, 10_000);
    const pid = /\(pid (\d+)\)/.exec(service.output())![1]!;
    const env = cliEnv(socketDir, { PID: pid });
    for (const step of recipe.steps) {
      const command = shell(localize(step.command, port), env);
      if (step.input.length > 0 || step.traffic.length > 0) {
        await command.waitFor(/^tracing |"type":"started"/m, 10_000);
      }
      if (step.input.length > 0) {
        command.send(step.input.map((line) => `${line}\n`).join(''));
        await command.waitFor(/^added /m, 10_000);
      }
      for (const traffic of step.traffic) {
        const sent = shell(localize(traffic, port), env);
        expect(await sent.done, sent.output()).toBe(0);
      }
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${step.command} did not end:\n${command.output()}`)), 20_000).unref(),
      );
      const code = await Promise.race([command.done, timeout]);
      const output = command.output();
      expect(code, output).toBe(0);
      for (const pattern of step.expect) expect(output, step.command).toMatch(pattern);
      for (const pattern of step.expectNot) expect(output, step.command).not.toMatch(pattern);
    }
    // A recipe runs a service and several commands of a few seconds each: a hang guard, not a timing.
  }, 60_000);
});
