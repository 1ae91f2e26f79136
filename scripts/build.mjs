// Builds dist/esm (the source as written) and dist/cjs (for `--require livetrace/register`
// and `require('livetrace')`), so CommonJS consumers never depend on require(esm).
//
// `--if-stale` (the `prepare` script) skips the build when dist/ was built after every
// input last changed. npm runs `prepare` again whenever it links the checkout somewhere,
// which `npx livetrace` inside the checkout does (it installs the checkout into npm's
// cache as a `file:` package): without the check, a user's first `npx livetrace demo`
// after `npm install` waited for two full tsc builds of code that was already built.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
