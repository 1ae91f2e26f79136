#!/usr/bin/env node
// Launcher. `--version` alone loads one file (protocol/version.js), not the CLI.
//
// Stack traces of livetrace itself point at its TypeScript sources: source-map-support
// rewrites them. The CLI prints no stack of its own (errors are coded lines, report.ts),
// so the only stack a user sees is the one Node prints for a crash; loading and
// installing source-map-support up front cost every command 30-60 ms of start-up (with
// the source-map package it reads), so it is installed when a crash is about to be
// printed instead. Node formats an error's stack when `stack` is first read, which for an
// uncaught exception is after the monitor below has run.
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { LIVETRACE_VERSION } = createRequire(import.meta.url)('../dist/cjs/protocol/version.js');
  process.stdout.write(`${LIVETRACE_VERSION}\n`);
} else {
  process.once('uncaughtExceptionMonitor', () => {
    try {
      createRequire(import.meta.url)('source-map-support').install({ environment: 'node', handleUncaughtExceptions: false });
    } catch {
      // Without it the stack points at dist/: still a stack.
    }
  });
  // The CommonJS build of the CLI: Node's CommonJS loader takes 75-95 ms for the modules a
  // trace needs where its ES module loader took 140-155 (measured here, load 2), and a
  // command's start-up is part of every time to first event.
  const { main } = createRequire(import.meta.url)('../dist/cjs/cli/program.js');
  process.exitCode = await main(process.argv);
}
