import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseTcpTable, portHolder, portsOf } from '../../../src/attach/listeners.js';

describe('parseTcpTable', () => {
  it('keeps listening sockets with their decoded address, port and inode', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:2405 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41437 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:A1B2 0100007F:2405 01 00000000:00000000 00:00000000 00000000  1000        0 41500 1 0000000000000000 20 4 30 10 -1',
      '   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(parseTcpTable(tcp)).toEqual([
      { address: '127.0.0.1', port: 9221, inode: '41437' },
      { address: '0.0.0.0', port: 22, inode: '1234' },
    ]);
    const tcp6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000001000000:2411 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(parseTcpTable(tcp6)).toEqual([{ address: '0:0:0:0:0:0:0:1', port: 9233, inode: '5555' }]);
  });
});

describe.runIf(process.platform === 'linux')('listeners of a live process', () => {
  const listen = (): Promise<Server> =>
    new Promise((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    });

  it('attributes a listening port to the process that holds it', async () => {
    const server = await listen();
    try {
      const port = (server.address() as { port: number }).port;
      expect((await portsOf(process.pid))?.has(port)).toBe(true);
      expect(await portHolder(process.pid, port)).toBe('target');
      // Seen from another process's point of view, the same socket belongs to someone else.
      expect(await portHolder(process.ppid, port)).toBe('other');
      server.close();
      await new Promise((resolve) => server.once('close', resolve));
      expect(await portHolder(process.pid, port)).toBe('none');
    } finally {
      server.close();
    }
  });
});
