#!/usr/bin/env node
// Launcher: stack traces of livetrace itself point at its TypeScript sources, then the
// commander program in dist/ runs.
import sourceMapSupport from 'source-map-support';

sourceMapSupport.install({ environment: 'node' });

const { main } = await import('../dist/esm/cli/program.js');
process.exitCode = await main(process.argv);
