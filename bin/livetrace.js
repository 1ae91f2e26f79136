#!/usr/bin/env node
// Launcher. A CommonJS file (bin/package.json), which runs the CommonJS build of the CLI:
// Node's CommonJS loader took 75-95 ms for the modules a trace needs where its ES module
// loader took 140-155, and an ES module entry alone costs some 20 ms more than a CommonJS
// one before its first line runs (measured here, load 2). A command's start-up is part of
// every time to first event. The build bundles that CommonJS build into one file,
// dist/cjs/cli.bundle.js, and makes a V8 code cache of it (scripts/build.mjs): one file
// compiled mostly from the cache instead of 80-100 modules resolved, read and compiled
// (docs/benchmarks.md, branch attach7). An install without the bundle (esbuild is a dev
// dependency) runs dist/cjs/cli/program.js. `--version` alone loads one file
// (protocol/version.js), not the CLI.
//
// Stack traces of livetrace itself point at its TypeScript sources: source-map-support
// rewrites them. The CLI prints no stack of its own (errors are coded lines, report.ts),
// so the only stack a user sees is the one Node prints for a crash; loading and
// installing source-map-support up front cost every command 30-60 ms of start-up (with
// the source-map package it reads), so it is installed when a crash is about to be
// printed instead. Node formats an error's stack when `stack` is first read, which for an
// uncaught exception is after the monitor below has run.
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../dist/cjs/protocol/version.js').LIVETRACE_VERSION}\n`);
} else {
  process.once('uncaughtExceptionMonitor', () => {
    try {
      require('source-map-support').install({ environment: 'node', handleUncaughtExceptions: false });
    } catch {
      // Without it the stack points at dist/: still a stack.
    }
  });
  const bundle = require('node:path').join(__dirname, '..', 'dist', 'cjs', 'cli.bundle.js');
  let cli;
  if (require('node:fs').existsSync(bundle)) {
    const loader = require('../dist/cjs/bundle-loader.js');
    const cache = loader.cacheFileFor(bundle);
    const { enableCompileCache } = require('node:module');
    if (typeof enableCompileCache === 'function' && !require('node:fs').existsSync(cache)) {
      // A Node other than the build's (the build's cache fits only its own V8) that has a
      // compile cache (Node 22 and later): Node keeps the bundle's compiled code in its own
      // cache directory (os.tmpdir()/node-compile-cache, shared by every tool that enables
      // it; NODE_DISABLE_COMPILE_CACHE=1 turns it off) from the first run on, 20-30 ms of
      // CPU less at every later start (docs/benchmarks.md, branch attach7). Only this
      // process: the processes the CLI starts are not told (it sets no environment).
      enableCompileCache();
      cli = require(bundle);
    } else {
      cli = loader.loadBundle(bundle, cache).exports;
    }
  } else {
    cli = require('../dist/cjs/cli/program.js');
  }
  // main() resolves to the exit status and never rejects.
  void cli
    .main(process.argv)
    .then((code) => {
      process.exitCode = code;
    });
}
