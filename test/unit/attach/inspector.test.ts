import { createServer, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listTargets, parseTargets, portAccepts } from '../../../src/attach/inspector.js';

const endpoint = { host: '127.0.0.1', port: 9229 };

describe('parseTargets', () => {
  it('keeps node targets and rebuilds their WebSocket URL on the endpoint we asked', () => {
    const body = JSON.stringify([
      { id: '95a6fb89-3643-4ab5-b935-432914e8445f', title: 'app.js', type: 'node', url: 'file:///a/app.js', webSocketDebuggerUrl: 'ws://evil:1/x' },
      { id: '../../etc', type: 'node' },
      { id: 'abc', type: 'page' },
    ]);
    expect(parseTargets(body, endpoint)).toEqual([
      {
        id: '95a6fb89-3643-4ab5-b935-432914e8445f',
        title: 'app.js',
        url: 'file:///a/app.js',
        webSocketUrl: 'ws://127.0.0.1:9229/95a6fb89-3643-4ab5-b935-432914e8445f',
      },
    ]);
    expect(parseTargets(JSON.stringify([{ id: 'a1' }]), { host: '::1', port: 1 })[0]?.webSocketUrl).toBe('ws://[::1]:1/a1');
  });

  it('rejects anything that is not an inspector target list', () => {
    for (const body of ['<html>', '{}', '[]', '[{"id":"x y"}]']) expect(() => parseTargets(body, endpoint)).toThrow();
  });
});

describe('listTargets and portAccepts against a listener that is not an inspector', () => {
  it('rejects its answer, and sees the port accept then refuse once closed', async () => {
    const server: Server = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const at = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
    try {
      await expect(listTargets(at, 1000)).rejects.toThrow();
      expect(await portAccepts(at, 1000)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await portAccepts(at, 1000)).toBe(false);
  });
});
