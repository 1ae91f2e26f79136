/**
 * The attach's own WebSocket client (src/attach/websocket.ts) against the ws package's
 * server, a complete implementation: the handshake, masked frames both ways at every
 * length encoding, fragmented messages, ping, close from either side, refusals.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { WebSocketClient } from '../../../src/attach/websocket.js';

let server: Server | undefined;
let wss: WebSocketServer | undefined;

afterEach(async () => {
  for (const peer of wss?.clients ?? []) peer.terminate();
  wss?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  wss = undefined;
});

/** A ws server on a free loopback port; `onPeer` gets each server-side socket. */
async function serve(onPeer: (peer: WebSocket) => void): Promise<string> {
  server = createServer((_req, res) => res.writeHead(404).end());
  wss = new WebSocketServer({ server, perMessageDeflate: true });
  wss.on('connection', onPeer);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/session`;
}

function open(url: string, maxPayload = 16 * 1024 * 1024) {
  const messages: string[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  const events = {
    message: (text: string) => {
      messages.push(text);
      wake?.();
    },
    close: () => {
      closed = true;
      wake?.();
    },
  };
  const until = async (done: () => boolean): Promise<void> => {
    while (!done()) await new Promise<void>((resolve) => (wake = resolve));
  };
  return { client: WebSocketClient.connect(url, { handshakeTimeout: 2000, maxPayload }, events), messages, closed: () => closed, until };
}

describe('WebSocketClient', () => {
  it('sends and receives text at every length encoding, and joins a fragmented message', async () => {
    const sizes = [0, 5, 125, 126, 65535, 65536, 300_000];
    const url = await serve((peer) => {
      // Echo, then one message in three fragments.
      peer.on('message', (data, binary) => {
        const text = data.toString();
        if (text === 'fragments') {
          peer.send('ab', { fin: false });
          peer.send('cd', { fin: false });
          peer.send('é', { fin: true });
        } else peer.send(text, { binary });
      });
    });
    const { client, messages, until } = open(url);
    const ws = await client;
    for (const size of sizes) ws.send('x'.repeat(size));
    ws.send('fragments');
    await until(() => messages.length === sizes.length + 1);
    expect(messages.map((m) => m.length)).toEqual(sizes.concat(5));
    expect(messages.at(-1)).toBe('abcdé');
    ws.terminate();
  });

  it('answers a ping and reports the peer closing', async () => {
    let pong = false;
    const url = await serve((peer) => {
      peer.on('pong', () => {
        pong = true;
        peer.close(1000, 'bye');
      });
      peer.ping('hi');
    });
    const { client, closed, until } = open(url);
    const ws = await client;
    await until(closed);
    expect(pong).toBe(true);
    expect(ws.isOpen).toBe(false);
  });

  it('reports a terminate once, and sends nothing after it', async () => {
    const url = await serve(() => {});
    let closes = 0;
    const ws = await WebSocketClient.connect(url, { handshakeTimeout: 2000, maxPayload: 1024 }, { message: () => {}, close: () => closes++ });
    ws.terminate();
    ws.terminate();
    ws.send('late');
    expect(closes).toBe(1);
  });

  it('ends the connection on a message over maxPayload', async () => {
    const url = await serve((peer) => peer.send('y'.repeat(2000)));
    const { client, messages, closed, until } = open(url, 1000);
    await client;
    await until(closed);
    expect(messages).toEqual([]);
  });

  it('rejects an HTTP answer that is not an upgrade, and a URL that is not ws://', async () => {
    server = createServer((_req, res) => res.writeHead(400).end());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    await expect(open(url).client).rejects.toThrow('inspector refused the session (HTTP 400)');
    await expect(open('http://127.0.0.1:1/x').client).rejects.toThrow('not a ws:// URL');
  });

  it('rejects when nothing listens', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(open(`ws://127.0.0.1:${port}/x`).client).rejects.toThrow(/ECONNREFUSED/);
  });
});
