/**
 * The operator's side stays light: `livetrace --help` and `livetrace ps` load no module of
 * the agent (session, patcher, capture, probes). The import rules (.dependency-cruiser.cjs)
 * say so of the source; this checks what the real CLI process loads: every file URL an ES
 * module loader hook sees, and every CommonJS module in require's cache as the process
 * exits (the CLI runs its CommonJS build, bin/livetrace.js), and the modules the build put
 * in the CLI's bundle (dist/cjs/cli.bundle.js, which the launcher runs when it exists).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths.js';
import { runCli } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'livetrace-footprint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(join(dir, 'hooks.mjs'), [
  "import { appendFileSync } from 'node:fs';",
  'export async function load(url, context, next) {',
  "  if (url.startsWith('file:')) appendFileSync(process.env.LT_FOOTPRINT, url + '\\n');",
  '  return next(url, context);',
  '}',
].join('\n'));
writeFileSync(
  join(dir, 'register.mjs'),
  [
    "import { register, createRequire } from 'node:module';",
    "import { appendFileSync } from 'node:fs';",
    "import { pathToFileURL } from 'node:url';",
    `register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});`,
    'const cache = createRequire(import.meta.url).cache;',
    "process.on('exit', () => { for (const file of Object.keys(cache)) appendFileSync(process.env.LT_FOOTPRINT, pathToFileURL(file).href + '\\n'); });",
  ].join('\n'),
);

async function loaded(args: string[]): Promise<string[]> {
  const log = join(dir, `${args.join('-').replace(/\W/g, '_')}.log`);
  writeFileSync(log, '');
  const result = await runCli(args, {
    socketDir: dir,
    env: { LT_FOOTPRINT: log, NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href}` },
  });
  expect(result.code, result.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('what the CLI loads', () => {
  it.each([[['--help']], [['ps']], [['ps', '--json']]])('livetrace %j loads the CLI and no agent module', async (args) => {
    const urls = await loaded(args);
    // The hook saw the CLI itself (its modules, or the bundle or the loader that compiled it): the check can fail.
    expect(urls.some((url) => /\/dist\/cjs\/(cli\/program\.js|cli\.bundle\.js|bundle-loader\.js)$/.test(url))).toBe(true);
    expect(urls.filter((url) => /\/dist\/(esm|cjs)\/(agent\/|agent\.|attach-main|register)/.test(url))).toEqual([]);
  });

  it('the CLI bundle holds no agent module', () => {
    const bundle = join(repoRoot, 'dist/cjs/cli.bundle.js');
    // A build without esbuild makes none; the launcher then runs dist/cjs/cli (checked above).
    if (!existsSync(bundle)) return;
    // esbuild heads each module it bundles with a comment naming its file.
    const modules = [...readFileSync(bundle, 'utf8').matchAll(/^\/\/ (dist\/cjs\/\S+)$/gm)].map((m) => m[1]!);
    expect(modules).toContain('dist/cjs/cli/program.js');
    expect(modules.filter((file) => /^dist\/cjs\/(agent\/|agent\.|attach-main|register)/.test(file))).toEqual([]);
  });
});
