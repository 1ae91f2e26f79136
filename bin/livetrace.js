#!/usr/bin/env node
// Launcher: stack traces of livetrace itself point at its TypeScript sources, then the
// commander program in dist/ runs. `--version` alone needs neither (it answers without
// loading a command: program.ts), so it skips the source maps' start-up too.
const args = process.argv.slice(2);
if (!(args.length === 1 && (args[0] === '--version' || args[0] === '-V'))) {
  const { default: sourceMapSupport } = await import('source-map-support');
  sourceMapSupport.install({ environment: 'node' });
}

const { main } = await import('../dist/esm/cli/program.js');
process.exitCode = await main(process.argv);
