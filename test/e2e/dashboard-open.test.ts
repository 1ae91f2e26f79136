/**
 * `livetrace dashboard --open` starts the browser command with the URL it printed: $BROWSER
 * points at a tiny script that writes its arguments to a file and exits. A browser that
 * cannot start is reported, and the dashboard serves on.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, tempDir } from '../integration/fixture-app.js';
import { killClis, startCli } from './cli-process.js';
import { http, until } from './dashboard-browser.js';

afterAll(async () => {
  await killClis();
  await cleanup();
});

describe('livetrace dashboard --open', () => {
  it('starts $BROWSER with the printed URL, which admits the browser', async () => {
    const dir = tempDir();
    const record = join(dir, 'argv.json');
    const script = join(dir, 'browser.cjs');
    writeFileSync(script, `require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));\n`);
    const cli = startCli(['dashboard', '--open'], { socketDir: tempDir(), env: { BROWSER: `${process.execPath} ${script}` } });
    const url = (await cli.waitFor('stdout', /livetrace dashboard on (http:\/\/\S+)/, 20_000))[1]!;
    const argv = await until('the browser command to run', () => (existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as string[]) : undefined), 15_000);
    expect(argv).toEqual([url]);
    // The URL the browser got is the one with the token: it is let in.
    expect((await http(argv[0]!)).status).toBe(303);
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
  }, 40_000);

  it('says so on stderr when the browser cannot start, and serves on', async () => {
    const cli = startCli(['dashboard', '--open'], { socketDir: tempDir(), env: { BROWSER: join(tempDir(), 'no-such-browser') } });
    const url = (await cli.waitFor('stdout', /livetrace dashboard on (http:\/\/\S+)/, 20_000))[1]!;
    await cli.waitFor('stderr', /could not open a browser \(.*no-such-browser: .*ENOENT.*\); open the URL above/, 15_000);
    expect((await http(url)).status).toBe(303);
    cli.child.kill('SIGTERM');
    await cli.done;
  }, 40_000);
});
