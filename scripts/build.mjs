// Builds dist/esm (the source as written) and dist/cjs (for `--require livetrace/register`
// and `require('livetrace')`), so CommonJS consumers never depend on require(esm).
//
// `--if-stale` (the `prepare` script) skips the build when dist/ was built after every
// input last changed. npm runs `prepare` again whenever it links the checkout somewhere,
// which `npx livetrace` inside the checkout does (it installs the checkout into npm's
// cache as a `file:` package): without the check, a user's first `npx livetrace demo`
// after `npm install` waited for two full tsc builds of code that was already built.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The cache file name the loaders look for (src/bundle-loader.ts), once dist/cjs is built. */
const cacheFileFor = (bundle) => createRequire(import.meta.url)(join(root, 'dist/cjs/bundle-loader.js')).cacheFileFor(bundle);

/** The packages the agent loads as it starts (the ones in require.cache after startAgent()), bundled into dist/cjs/agent.bundle.js. */
const BUNDLED_PACKAGES = ['acorn', 'acorn-walk', 'micromatch', 'braces', 'fill-range', 'to-regex-range', 'is-number', 'picomatch', 'source-map-support', 'source-map', 'buffer-from'];
const stamp = join(root, 'dist/.build-stamp');

/** Newest modification time of the build's inputs (the sources, the configs, this script). */
function newestInput() {
  let newest = 0;
  const visit = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  visit(join(root, 'src'));
  for (const file of ['tsconfig.json', 'tsconfig.base.json', 'tsconfig.cjs.json', 'package.json', 'scripts/build.mjs']) visit(join(root, file));
  return newest;
}

if (process.argv.includes('--if-stale') && existsSync(stamp) && statSync(stamp).mtimeMs > newestInput()) {
  console.log('livetrace: dist/ is up to date (npm run build rebuilds it)');
  process.exit(0);
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
for (const project of ['tsconfig.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit', cwd: root });
}
mkdirSync(join(root, 'dist/cjs'), { recursive: true });
buildDashboardAssets();
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');
await buildAgentBundle();
await buildCliBundle();
writeFileSync(stamp, `${new Date().toISOString()}\n`);

/**
 * The dashboard's page (docs/dashboard.md): its hand-written files and uPlot's ES module
 * and stylesheet, copied into dist/web, where the server reads them. Served from the
 * package, never from a CDN: the page's CSP allows only its own origin.
 */
function buildDashboardAssets() {
  const out = join(root, 'dist/web');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const web = join(root, 'src/dashboard/web');
  for (const name of readdirSync(web)) copyFileSync(join(web, name), join(out, name));
  const uplot = join(dirname(createRequire(import.meta.url).resolve('uplot')), '..');
  const dist = existsSync(join(uplot, 'dist')) ? join(uplot, 'dist') : uplot;
  copyFileSync(join(dist, 'uPlot.esm.js'), join(out, 'uPlot.esm.js'));
  copyFileSync(join(dist, 'uPlot.min.css'), join(out, 'uPlot.min.css'));
}

/**
 * dist/cjs/agent.bundle.js: what an attach loads into its target (src/attach-main.ts), the
 * CommonJS build of it bundled into one file by esbuild. Built from dist/cjs, so its code
 * is exactly the CommonJS build's. Bundled packages are the ones the agent loads as it
 * starts (a list kept here, checked by test/integration/agent-bundle.test.ts); any other
 * package stays a require() of node_modules, loaded when and if a path needs it, as
 * before. esbuild is a devDependency: a build without it (an install that omitted dev
 * dependencies) makes no bundle, and the bootstrap loads the two CommonJS entries instead.
 */
async function buildAgentBundle() {
  const out = join(root, 'dist/cjs/agent.bundle.js');
  const entry = join(root, 'dist/cjs/agent.js');
  const sha256File = join(root, 'dist/cjs/agent.bundle.sha256');
  rmSync(out, { force: true });
  rmSync(entry, { force: true });
  rmSync(sha256File, { force: true });
  for (const name of readdirSync(join(root, 'dist/cjs'))) if (/^agent\.bundle\..*cache$/.test(name)) rmSync(join(root, 'dist/cjs', name), { force: true });
  const bundled = new Set(BUNDLED_PACKAGES);
  const made = await bundleWithEsbuild(join(root, 'dist/cjs/attach-main.js'), out, (specifier) => bundled.has(packageOf(specifier)), {});
  if (!made) {
    console.log('livetrace: esbuild is not installed, no agent bundle (an attach loads dist/cjs/register.js)');
    return;
  }
  // The bundle's identity for the caches the CLI makes for other Nodes (src/attach/agent-cache.ts):
  // V8 checks a cache's source only by its length, so a cache is named by the text it was made from.
  const sha256 = createHash('sha256').update(readFileSync(out)).digest('hex');
  writeFileSync(sha256File, `${sha256}\n`);
  // The cache is made as the CLI makes one for another Node (src/agent-cache-maker.ts): after
  // an agent started, a client said hello, a session traced a call, and all stopped.
  const cache = cacheFileFor(out);
  try {
    execFileSync(process.execPath, [join(root, 'dist/cjs/agent-cache-maker.js'), out, sha256, cache, '--build'], {
      cwd: root,
      stdio: 'inherit',
      timeout: 60_000,
      env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LIVETRACE_') && name !== 'NODE_OPTIONS')),
    });
  } catch (error) {
    rmSync(cache, { force: true });
    console.log(`livetrace: no code cache for ${out} (${error.message.split('\n')[0]})`);
  }
  // What the bootstrap requires: the bundle runs while Node loads this module, as a
  // required bundle would (module loading, before the agent's code runs on its own).
  writeFileSync(
    entry,
    "'use strict';\n// Made by scripts/build.mjs: loading this file loads the agent bundle with its code cache (src/agent-loader.ts).\n" +
      "const { join } = require('node:path');\n" +
      "const bundle = join(__dirname, 'agent.bundle.js');\n" +
      "module.exports = require('./agent-loader.js').loadAgentBundle(bundle, require('./bundle-loader.js').cacheFileFor(bundle)).exports;\n",
  );
}

/**
 * dist/cjs/cli.bundle.js: the CLI as bin/livetrace.js loads it, the CommonJS build of
 * src/cli/program.ts and everything it can load (every command, attach, client, fleet,
 * the dashboard's server side) in one file, compiled with the V8 code cache the build
 * makes for it (src/bundle-loader.ts). The CLI's load was 80-100 modules resolved, read
 * and compiled one by one, 90-120 ms of every command's start-up and thus of every
 * time to first event (docs/benchmarks.md, branch attach7). Each module stays in its
 * esbuild wrapper and runs when first required, as before: a command still loads only
 * its own modules' top levels. commander is bundled (every command loads it); the other
 * packages (ioredis, acorn, micromatch, pino, es-module-lexer) stay require()s of
 * node_modules, loaded when and if a path needs them. The source map chains to src/
 * (esbuild reads the CommonJS build's maps), for the stack a crash prints. Without
 * esbuild (an install that omitted dev dependencies) there is no bundle and the launcher
 * loads dist/cjs/cli/program.js; dist/cjs and dist/esm stay as they are for the library.
 */
async function buildCliBundle() {
  const out = join(root, 'dist/cjs/cli.bundle.js');
  for (const name of readdirSync(join(root, 'dist/cjs'))) if (/^cli\.bundle\./.test(name)) rmSync(join(root, 'dist/cjs', name), { force: true });
  const made = await bundleWithEsbuild(join(root, 'dist/cjs/cli/program.js'), out, (name) => name === 'commander' || name.startsWith('commander/'), { sourcemap: 'linked' });
  if (!made) {
    console.log('livetrace: esbuild is not installed, no CLI bundle (bin/livetrace.js loads dist/cjs/cli/program.js)');
    return;
  }
  // Every command's module run and registered, then a `trace` of a process that does not
  // exist: its options, its pattern check and the attach's first check, as a trace runs
  // them (it ends with LT_PID_NOT_FOUND; its message goes nowhere).
  makeCodeCache(out, (loaded) => {
    const argv = JSON.stringify(['node', 'livetrace', 'trace', String(2 ** 22 + 1), 'lib:hot', '--json', '--max', '1']);
    return `Promise.resolve(${loaded}.exports.createProgram()).then(() => { process.stderr.write = () => true; return ${loaded}.exports.main(${argv}); })`;
  });
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`). */
function packageOf(specifier) {
  return specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
}

/**
 * One CommonJS file for Node 20 from `entry` (a module of dist/cjs) by esbuild: node:
 * modules and every package `inside(specifier)` refuses stay require()s of node_modules.
 * False when esbuild is not installed (a devDependency).
 */
async function bundleWithEsbuild(entry, outfile, inside, options) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return false;
  }
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    ...options,
    plugins: [
      {
        name: 'packages-stay-outside',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('node:')) return { external: true };
            return inside(args.path) ? undefined : { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return true;
}

/**
 * `<bundle>.v8-<V8 version>.at-<place>.cache` (src/bundle-loader.ts cacheFileFor: a cache
 * is found only by the V8 that accepts it, and only where it was made): V8's code cache of a bundle as src/bundle-loader.ts
 * compiles it, made after `exercise` ran in a child process (for the agent: an agent
 * started and stopped), so it holds the functions that run. `exercise(loaded)` is the
 * text of an expression for a promise, `loaded` the name of the bundle-loader's result.
 * The name carries the V8 version because V8 accepts a cache only from its own version:
 * a process on another Node finds no file for its V8 and compiles without reading one
 * (V8 would refuse it, harmlessly, after the read). A build that cannot make it goes on
 * without it.
 */
function makeCodeCache(bundle, exercise) {
  const cache = cacheFileFor(bundle);
  const sockets = mkdtempSync(join(tmpdir(), 'lt-build-'));
  const script = `
    const { writeFileSync } = require('node:fs');
    const loaded = require(${JSON.stringify(join(root, 'dist/cjs/bundle-loader.js'))}).loadBundle(${JSON.stringify(bundle)});
    Promise.resolve()
      .then(() => ${exercise('loaded')})
      .then(() => { writeFileSync(${JSON.stringify(cache)}, loaded.script.createCachedData()); process.exit(0); });`;
  try {
    execFileSync(process.execPath, ['-e', script], {
      cwd: root,
      stdio: 'inherit',
      timeout: 60_000,
      // None of the caller's livetrace settings (a fleet, a run session, a log) nor preloads.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LIVETRACE_') && name !== 'NODE_OPTIONS')), LIVETRACE_SOCKET_DIR: sockets },
    });
  } catch (error) {
    rmSync(cache, { force: true });
    console.log(`livetrace: no code cache for ${bundle} (${error.message.split('\n')[0]})`);
  } finally {
    rmSync(sockets, { recursive: true, force: true });
  }
}
