/**
 * `livetrace/dashboard` by name, from ESM and CommonJS (the package self-references through
 * its "exports"), and the page's files where the build put them. Runs the built dist/.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths.js';

const run = promisify(execFile);

async function node(args: string[]): Promise<string> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, env, timeout: 20_000 });
  return stdout.trim();
}

describe('livetrace/dashboard', () => {
  it('loads by name from ESM and from CommonJS, as a handler factory', async () => {
    const esm = await node(['--input-type=module', '-e', "const m = await import('livetrace/dashboard'); const h = m.dashboard(); console.log(typeof m.dashboard, typeof h, h.length, typeof h.close); await h.close();"]);
    // Two parameters: Express takes four for error middleware; (req, res) is a plain handler it mounts.
    expect(esm).toBe('function function 2 function');
    const cjs = await node(['-e', "const m = require('livetrace/dashboard'); const h = m.dashboard({ base: '/lt' }); console.log(typeof h, typeof h.close); h.close();"]);
    expect(cjs).toBe('function function');
  });

  it('has its page, scripts and uPlot in dist/web (built by npm install, no CDN)', () => {
    for (const file of ['index.html', 'app.js', 'style.css', 'uPlot.esm.js', 'uPlot.min.css']) expect(existsSync(join(repoRoot, 'dist/web', file)), file).toBe(true);
  });
});
