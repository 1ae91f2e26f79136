/**
 * The package as its users load it: `livetrace` and `livetrace/client` by name, from ESM
 * and from CommonJS (a node process in the repository, which the package self-references
 * through its "exports"), and `livetrace --version` whatever npm put in the environment.
 * Runs the built dist/ (`npm run build` first).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheFileFor } from '../../src/bundle-loader.js';
import { cleanup, repoRoot, tempDir } from '../integration/fixture-app.js';
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

afterEach(cleanup);

/**
 * A preload that says, as the CLI exits, which of the package's files ran the command: the
 * CLI's own modules (dist/cjs/cli/*.js, the fallback) or the bundle, compiled by the
 * bundle loader (bundle-loader.ts keeps what it loaded: asking again returns it, with
 * whether V8 took the cache).
 */
function whichCli(dir: string): string {
  const file = join(dir, 'which-cli.cjs');
  writeFileSync(
    file,
    `process.on('exit', () => {
      const files = Object.keys(require.cache);
      const loader = files.find((f) => f.endsWith('/dist/cjs/bundle-loader.js'));
      const compiled = loader === undefined ? undefined : require(loader).loadedBundle(loader.replace(/bundle-loader\\.js$/, 'cli.bundle.js'));
      const required = files.some((f) => f.endsWith('/dist/cjs/cli.bundle.js'));
      process.stderr.write('WHICH ' + JSON.stringify({
        modules: files.some((f) => f.endsWith('/dist/cjs/cli/program.js')),
        bundle: compiled !== undefined ? 'loader' : required ? 'require' : null,
        cacheRejected: compiled === undefined ? null : compiled.cacheRejected ?? null,
      }) + '\\n');
    });\n`,
  );
  return file;
}

async function runWhich(cli: string, args: string[]): Promise<{ stdout: string; which: { modules: boolean; bundle: string | null; cacheRejected: boolean | null } }> {
  const dir = tempDir('lt-launcher-');
  const { stdout, stderr } = await run(process.execPath, ['-r', whichCli(dir), cli, ...args], { cwd: dir, timeout: 20_000 });
  const line = /^WHICH (.*)$/m.exec(stderr);
  expect(line, stderr).not.toBeNull();
  return { stdout, which: JSON.parse(line![1]!) };
}

describe('the launcher (bin/livetrace.js)', () => {
  it("runs the CLI from the bundle the build made, with the build's code cache on the build's Node, Node's compile cache on another", async () => {
    // The build names its cache by its V8 version; a Node with another V8 (CI's second
    // stage runs Node 22 and 24 on a build made by Node 20) finds none and reads none.
    expect(existsSync(join(repoRoot, 'dist/cjs/cli.bundle.js'))).toBe(true);
    expect(readdirSync(join(repoRoot, 'dist/cjs')).filter((name) => /^cli\.bundle\.v8-.+\.cache$/.test(name))).toHaveLength(1);
    const ownCache = existsSync(cacheFileFor(join(repoRoot, 'dist/cjs/cli.bundle.js')));
    const { stdout, which } = await runWhich(cliPath, ['--help']);
    expect(stdout).toMatch(/^Usage: livetrace/);
    expect(stdout).toContain('trace');
    // Without the build's cache, a Node with module.enableCompileCache (22 and later) requires the bundle with it on.
    const compileCache = typeof ((await import('node:module')) as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    expect(which).toEqual(
      ownCache ? { modules: false, bundle: 'loader', cacheRejected: false } : { modules: false, bundle: compileCache ? 'require' : 'loader', cacheRejected: null },
    );
  });

  it('runs dist/cjs/cli when there is no bundle (an install without esbuild)', async () => {
    // A copy of the package as an install without dev dependencies has it: the launcher,
    // the CommonJS build without the CLI bundle, the manifest, the dependencies.
    const copy = tempDir('lt-no-bundle-');
    cpSync(join(repoRoot, 'bin'), join(copy, 'bin'), { recursive: true });
    mkdirSync(join(copy, 'dist'));
    cpSync(join(repoRoot, 'dist/cjs'), join(copy, 'dist/cjs'), { recursive: true, filter: (source) => !/[/\\]cli\.bundle\.[^/\\]*$/.test(source) });
    cpSync(join(repoRoot, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'), 'dir');
    expect(existsSync(join(copy, 'dist/cjs/cli.bundle.js'))).toBe(false);
    const { stdout, which } = await runWhich(join(copy, 'bin/livetrace.js'), ['--help']);
    expect(stdout).toMatch(/^Usage: livetrace/);
    expect(which).toEqual({ modules: true, bundle: null, cacheRejected: null });
    expect((await runWhich(join(copy, 'bin/livetrace.js'), ['explain', 'lib:hot'])).stdout).toContain('hot');
  });
});
