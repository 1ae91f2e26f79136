/**
 * The WebSocket client an attach talks to the target's inspector with: RFC 6455, as much
 * of it as an inspector session uses, over node:http's upgrade.
 *
 * Why not the ws package: loading it is some thirteen modules, 50-130 ms of every
 * attach's start-up measured on this machine (the attach to first event is timed from
 * the command's spawn), for a session that sends a handful of small text messages to a
 * loopback peer. What is implemented: the opening handshake (with its Sec-WebSocket-Accept
 * check), masked text frames out, text frames in (continuations joined), ping answered by
 * pong, close answered and reported; no extensions are offered, so none can be in use.
 * Whatever the peer sends that this does not expect (a masked frame, a reserved bit, an
 * unknown opcode, a message over `maxPayload`) ends the session, as a protocol error must.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export interface WebSocketOptions {
  /** Bound on the opening handshake, ms. */
  handshakeTimeout: number;
  /** Largest message accepted, in bytes. */
  maxPayload: number;
}

export interface WebSocketEvents {
  message(text: string): void;
  /** Once: the peer closed, the socket ended or failed, or `terminate()` was called. */
  close(): void;
}

/** One open WebSocket connection (client side). */
export class WebSocketClient {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /**
   * Bytes the frame at the head of `chunks` needs in all, once its header was read: until
   * they are there, a chunk is only queued (joining the chunks at every arrival copied a
   * large reply, a big script's source, over and over).
   */
  private needed = 0;
  /** Pieces of a fragmented message so far. */
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly events: WebSocketEvents,
    private readonly maxPayload: number,
    head: Buffer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.receive(data));
    socket.on('close', () => this.end());
    socket.on('error', () => this.end());
    if (head.length > 0) this.receive(head);
  }

  /** Opens a connection to `url` (ws://host:port/path). Rejects with why it could not. */
  static connect(url: string, options: WebSocketOptions, events: WebSocketEvents): Promise<WebSocketClient> {
    const target = new URL(url);
    if (target.protocol !== 'ws:') return Promise.reject(new Error(`not a ws:// URL: ${url}`));
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    return new Promise((resolve, reject) => {
      const req = request({
        host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: target.port === '' ? 80 : Number(target.port),
        path: `${target.pathname}${target.search}`,
        agent: false,
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key },
      });
      const timer = setTimeout(() => req.destroy(new Error(`opening handshake timed out after ${options.handshakeTimeout} ms`)), options.handshakeTimeout);
      req.on('upgrade', (res, socket: Socket, head: Buffer) => {
        clearTimeout(timer);
        if (res.headers['sec-websocket-accept'] !== accept || typeof res.headers['sec-websocket-extensions'] === 'string') {
          socket.destroy();
          reject(new Error('the peer answered the WebSocket handshake wrongly'));
          return;
        }
        resolve(new WebSocketClient(socket, events, options.maxPayload, head));
      });
      req.on('response', (res) => {
        clearTimeout(timer);
        res.resume();
        req.destroy();
        reject(new Error(`inspector refused the session (HTTP ${res.statusCode})`));
      });
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end();
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends one text message. Ignored once closed. */
  send(text: string): void {
    if (!this.closed) this.socket.write(frame(OP_TEXT, Buffer.from(text, 'utf8')));
  }

  /** Ends the connection now, without the closing handshake. */
  terminate(): void {
    this.socket.destroy();
    this.end();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.fragments = [];
    this.events.close();
  }

  private receive(data: Buffer): void {
    if (this.closed) return;
    this.chunks.push(data);
    this.buffered += data.length;
    for (;;) {
      if (this.buffered < 2 || this.buffered < this.needed) return;
      const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [buf];
      const fin = (buf[0]! & 0x80) !== 0;
      const opcode = buf[0]! & 0x0f;
      let length = buf[1]! & 0x7f;
      let offset = 2;
      if ((buf[0]! & 0x70) !== 0 || (buf[1]! & 0x80) !== 0) {
        this.fail();
        return;
      }
      if (length === 126) {
        if (buf.length < 4) return;
        length = buf.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buf.length < 10) return;
        const long = buf.readBigUInt64BE(2);
        if (long > BigInt(this.maxPayload)) {
          this.fail();
          return;
        }
        length = Number(long);
        offset = 10;
      }
      if (length > this.maxPayload || this.fragmentBytes + length > this.maxPayload) {
        this.fail();
        return;
      }
      if (buf.length < offset + length) {
        this.needed = offset + length;
        return;
      }
      this.needed = 0;
      const payload = buf.subarray(offset, offset + length);
      const rest = buf.subarray(offset + length);
      this.chunks = rest.length === 0 ? [] : [rest];
      this.buffered = rest.length;
      if (!this.frame(fin, opcode, payload) || this.closed) return;
    }
  }

  /** Acts on one frame; false when the connection ended. */
  private frame(fin: boolean, opcode: number, payload: Buffer): boolean {
    switch (opcode) {
      case OP_TEXT:
      case OP_BINARY:
      case OP_CONTINUATION: {
        if ((opcode === OP_CONTINUATION) !== this.fragments.length > 0) return this.fail();
        if (fin && this.fragments.length === 0) {
          this.events.message(payload.toString('utf8'));
          return true;
        }
        // Copied: the payload is a view of a buffer the next chunk may replace.
        this.fragments.push(Buffer.from(payload));
        this.fragmentBytes += payload.length;
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = [];
          this.fragmentBytes = 0;
          this.events.message(whole.toString('utf8'));
        }
        return true;
      }
      case OP_PING:
        if (!fin || payload.length > 125) return this.fail();
        this.socket.write(frame(OP_PONG, payload));
        return true;
      case OP_PONG:
        return true;
      case OP_CLOSE:
        // Answered with a close of our own (echoing the status code), then the socket ends.
        this.socket.end(frame(OP_CLOSE, payload.subarray(0, Math.min(2, payload.length))));
        this.end();
        return false;
      default:
        return this.fail();
    }
  }

  private fail(): false {
    this.terminate();
    return false;
  }
}

/** One frame from the client: FIN set, masked as a client's must be. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const out = Buffer.allocUnsafe(2 + lengthBytes + 4 + length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) out.writeUInt16BE(length, 2);
  else if (lengthBytes === 8) out.writeBigUInt64BE(BigInt(length), 2);
  const maskAt = 2 + lengthBytes;
  const mask = randomBytes(4);
  mask.copy(out, maskAt);
  const dataAt = maskAt + 4;
  for (let i = 0; i < length; i++) out[dataAt + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}
