/** How top names a process from its command line. */
import { describe, expect, it } from 'vitest';
import { processName } from '../../../src/client/top.js';

describe('processName', () => {
  it('is the script after node and its flags', () => {
    expect(processName(['/usr/bin/node', '/srv/app/server.js'])).toBe('server.js');
    expect(processName(['node', '--import', 'livetrace/register', '--max-old-space-size=512', 'app.mjs', '--port', '80'])).toBe('app.mjs');
    expect(processName(['node', '-r', 'dotenv/config', 'index.js'])).toBe('index.js');
    expect(processName(['node', '-e', 'setInterval(() => {}, 1000)'])).toBe('[eval]');
    expect(processName(['node'])).toBe('node');
    expect(processName(['/usr/bin/node', '--', 'x.js'])).toBe('x.js');
  });

  it('is the title of a process that set process.title', () => {
    expect(processName(['npm exec vitest run', '', '', ''])).toBe('npm exec vitest run');
  });
});
