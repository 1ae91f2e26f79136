import { describe, expect, it } from 'vitest';
import { browserCommand } from '../../../src/cli/dashboard.js';

const url = 'http://127.0.0.1:4000/?token=abc';

describe('the browser --open starts', () => {
  it("is the platform's opener without $BROWSER", () => {
    expect(browserCommand(url, {}, 'linux')).toEqual(['xdg-open', [url]]);
    expect(browserCommand(url, { BROWSER: '' }, 'darwin')).toEqual(['open', [url]]);
    expect(browserCommand(url, {}, 'win32')).toEqual(['cmd', ['/c', 'start', '', url]]);
  });

  it('is $BROWSER when set: its first command, the URL appended or put in place of %s', () => {
    expect(browserCommand(url, { BROWSER: 'firefox' }, 'linux')).toEqual(['firefox', [url]]);
    expect(browserCommand(url, { BROWSER: 'chromium --new-window:firefox' }, 'darwin')).toEqual(['chromium', ['--new-window', url]]);
    expect(browserCommand(url, { BROWSER: 'w3m -o x=1 %s -dump' }, 'linux')).toEqual(['w3m', ['-o', 'x=1', url, '-dump']]);
  });

  it('never gives the URL to a shell: a URL with shell syntax stays one argument', () => {
    const nasty = 'http://127.0.0.1:4000/?a=$(touch x);b';
    expect(browserCommand(nasty, { BROWSER: 'firefox' }, 'linux')).toEqual(['firefox', [nasty]]);
  });
});
