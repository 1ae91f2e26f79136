/**
 * The package as its users load it: `livetrace` and `livetrace/client` by name, from ESM
 * and from CommonJS (a node process in the repository, which the package self-references
 * through its "exports"), and `livetrace --version` whatever npm put in the environment.
 * Runs the built dist/ (`npm run build` first).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../integration/fixture-app.js';
import { cliPath } from './cli-process.js';

const run = promisify(execFile);
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

async function node(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, env, timeout: 20_000 });
  return stdout.trim();
}

const probe = (lib: string, client: string) =>
  `console.log(JSON.stringify({ trace: typeof ${lib}.trace, startAgent: typeof ${lib}.startAgent, parsePattern: typeof ${lib}.parsePattern, ` +
  `session: ${lib}.Session === undefined, connect: typeof ${client}.connect, discover: typeof ${client}.discover, ` +
  `AgentClient: typeof ${client}.AgentClient, ClientSession: typeof ${client}.ClientSession }))`;

const expected = { trace: 'function', startAgent: 'function', parsePattern: 'function', session: true, connect: 'function', discover: 'function', AgentClient: 'function', ClientSession: 'function' };

describe('the package by name', () => {
  it('loads livetrace and livetrace/client from ESM', async () => {
    const code = `const lib = await import('livetrace'); const client = await import('livetrace/client'); ${probe('lib', 'client')}`;
    expect(JSON.parse(await node(['--input-type=module', '-e', code]))).toEqual(expected);
  });

  it('loads livetrace and livetrace/client from CommonJS', async () => {
    const code = `const lib = require('livetrace'); const client = require('livetrace/client'); ${probe('lib', 'client')}`;
    expect(JSON.parse(await node(['--input-type=commonjs', '-e', code]))).toEqual(expected);
  });
});

describe('livetrace --version', () => {
  it("prints the package's own version, not npm_package_version", async () => {
    expect(version).toBe('0.1.0');
    expect(await node([cliPath, '--version'], { ...process.env, npm_package_version: '9.9.9' })).toBe(version);
  });
});
