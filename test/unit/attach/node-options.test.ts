import { describe, expect, it } from 'vitest';
import {
  applyHostPort,
  defaultInspector,
  isLoopbackHost,
  nodeOptionsOf,
  readLaunchOptions,
  splitNodeOptions,
} from '../../../src/attach/node-options.js';

describe('splitNodeOptions', () => {
  it('splits on whitespace and keeps double-quoted spaces and escapes', () => {
    expect(splitNodeOptions('  --a  --b=1\t"--c=x y" --d="q\\"r" ')).toEqual(['--a', '--b=1', '--c=x y', '--d=q"r']);
    expect(splitNodeOptions('')).toEqual([]);
    expect(splitNodeOptions('""')).toEqual(['']);
  });
});

describe('nodeOptionsOf', () => {
  it('stops at the script, so app arguments are not read as Node options', () => {
    expect(nodeOptionsOf(['--inspect-port=1', 'app.js', '--disable-sigusr1'], true)).toEqual([['--inspect-port', '1']]);
  });

  it('takes the next argument as the value of options that need one', () => {
    expect(nodeOptionsOf(['-r', 'x.js', '--inspect-port', '9333', '--title', 't', 'app.js'], true)).toEqual([
      ['-r', 'x.js'],
      ['--inspect-port', '9333'],
      ['--title', 't'],
    ]);
  });

  it('stops at -- and normalizes underscores in option names', () => {
    expect(nodeOptionsOf(['--inspect_port=5', '--', '--disable-sigusr1'], true)).toEqual([['--inspect-port', '5']]);
  });
});

describe('applyHostPort', () => {
  it('reads [host:]port the way Node does', () => {
    expect(applyHostPort(defaultInspector, '9333')).toEqual({ host: '127.0.0.1', port: 9333 });
    expect(applyHostPort(defaultInspector, 'localhost')).toEqual({ host: 'localhost', port: 9229 });
    expect(applyHostPort(defaultInspector, '0.0.0.0:9444')).toEqual({ host: '0.0.0.0', port: 9444 });
    expect(applyHostPort(defaultInspector, '[::1]:9555')).toEqual({ host: '::1', port: 9555 });
    expect(applyHostPort(defaultInspector, '0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(applyHostPort(defaultInspector, '99999')).toEqual(defaultInspector);
  });
});

describe('readLaunchOptions', () => {
  it('defaults to 127.0.0.1:9229 for a plain command line', () => {
    expect(readLaunchOptions(['node', 'app.js'], undefined)).toEqual({
      disableSigusr1: undefined,
      inspector: { host: '127.0.0.1', port: 9229 },
      inspectorSource: 'default',
      inspectAtStart: false,
    });
  });

  it('lets the command line override NODE_OPTIONS, last occurrence winning', () => {
    const launch = readLaunchOptions(['node', '--inspect-port=9312', 'app.js'], '--inspect-port=9311');
    expect(launch.inspector.port).toBe(9312);
    expect(launch.inspectorSource).toBe('argv');
    expect(readLaunchOptions(['node', '--inspect=9315', '--inspect-port=9316', 'a.js'], undefined).inspector.port).toBe(9316);
    expect(readLaunchOptions(['node', 'a.js'], '--debug-port=9400').inspector).toEqual({ host: '127.0.0.1', port: 9400 });
  });

  it('finds --disable-sigusr1 in either place, and only among Node options', () => {
    expect(readLaunchOptions(['node', '--disable-sigusr1', 'app.js'], undefined).disableSigusr1).toBe('argv');
    expect(readLaunchOptions(['node', 'app.js'], '--max-old-space-size=100 --disable-sigusr1').disableSigusr1).toBe('NODE_OPTIONS');
    expect(readLaunchOptions(['node', 'app.js', '--disable-sigusr1'], undefined).disableSigusr1).toBeUndefined();
  });

  it('tells an inspector opened at startup from one merely configured', () => {
    expect(readLaunchOptions(['node', '--inspect-port=9', 'a.js'], undefined).inspectAtStart).toBe(false);
    expect(readLaunchOptions(['node', '--inspect', 'a.js'], undefined).inspectAtStart).toBe(true);
    expect(readLaunchOptions(['node', 'a.js'], '--inspect-brk=0.0.0.0:1').inspector).toEqual({ host: '0.0.0.0', port: 1 });
  });
});

describe('isLoopbackHost', () => {
  it('accepts loopback names and addresses only', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopbackHost(host)).toBe(false);
  });
});
