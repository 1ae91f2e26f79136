/**
 * Which TCP ports a process listens on, from the kernel's tables (Linux only).
 *
 * Attach needs this twice. Before signalling: if something listens on the inspector
 * port and that socket is not one of the target's descriptors, the port is taken and we
 * stop without ever talking to the stranger. After signalling: the inspector is the
 * listener the target gained, which finds it even when it was started with
 * --inspect-port=0 or when process.title hid its command line.
 *
 * /proc/<pid>/net/tcp{,6} lists the sockets of the target's network namespace with their
 * inode; /proc/<pid>/fd links name the inodes the target holds. Elsewhere the functions
 * answer undefined ("cannot tell") and attach falls back to asking the port itself.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';

export interface TcpListener {
  /** Local address as the kernel shows it: dotted IPv4 or colon-separated IPv6. */
  address: string;
  port: number;
  inode: string;
}

const LISTEN = '0A';

/** Every listening TCP socket in `pid`'s network namespace, or undefined without /proc. */
export async function tcpListeners(pid: number): Promise<TcpListener[] | undefined> {
  if (process.platform !== 'linux') return undefined;
  const tables = await Promise.all(
    ['tcp', 'tcp6'].map((name) => readFile(`/proc/${pid}/net/${name}`, 'utf8').catch(() => undefined)),
  );
  if (tables.every((table) => table === undefined)) return undefined;
  return tables.flatMap((table) => (table === undefined ? [] : parseTcpTable(table)));
}

/** Parses /proc/net/tcp or tcp6, keeping the listening sockets. */
export function parseTcpTable(table: string): TcpListener[] {
  const out: TcpListener[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    const local = fields[1];
    if (fields[3] !== LISTEN || local === undefined || fields[9] === undefined) continue;
    const [hexAddress, hexPort] = local.split(':');
    if (hexAddress === undefined || hexPort === undefined) continue;
    out.push({ address: decodeAddress(hexAddress), port: parseInt(hexPort, 16), inode: fields[9] });
  }
  return out;
}

// The kernel prints each 32-bit word of the address in host byte order (little-endian here).
function decodeAddress(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(hex.slice(word + i, word + i + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** Inodes of the sockets `pid` holds open, or undefined when its descriptors are hidden from us. */
export async function socketInodes(pid: number): Promise<Set<string> | undefined> {
  if (process.platform !== 'linux') return undefined;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  const inodes = new Set<string>();
  for (const link of links) {
    const match = /^socket:\[(\d+)\]$/.exec(link);
    if (match?.[1] !== undefined) inodes.add(match[1]);
  }
  return inodes;
}

/**
 * One read of the tables: the listeners of `pid`'s namespace and the socket inodes it
 * holds, or undefined without /proc. The kernel takes about 5 ms to print each of
 * net/tcp and net/tcp6 here (whatever their length), so the checks before the signal
 * (portsIn, holderIn) share one read instead of making two at once.
 */
export interface ListenerTable {
  listeners: TcpListener[];
  inodes: Set<string>;
}

export async function listenerTable(pid: number): Promise<ListenerTable | undefined> {
  const [listeners, inodes] = await Promise.all([tcpListeners(pid), socketInodes(pid)]);
  return listeners === undefined || inodes === undefined ? undefined : { listeners, inodes };
}

/** The listening ports that belong to the table's process. */
export function portsIn(table: ListenerTable): Set<number> {
  return new Set(table.listeners.filter((l) => table.inodes.has(l.inode)).map((l) => l.port));
}

export type PortHolder = 'none' | 'target' | 'other' | 'unknown';

/** Who listens on `port`: 'none', 'target' (a socket the table's process holds), or 'other'. */
export function holderIn(table: ListenerTable, port: number): PortHolder {
  const holders = table.listeners.filter((l) => l.port === port);
  if (holders.length === 0) return 'none';
  return holders.some((l) => !table.inodes.has(l.inode)) ? 'other' : 'target';
}

/** The listening ports that belong to `pid`, or undefined when that cannot be known. */
export async function portsOf(pid: number): Promise<Set<number> | undefined> {
  const table = await listenerTable(pid);
  return table === undefined ? undefined : portsIn(table);
}

/**
 * Who listens on `port`: 'none', 'target' (a socket the target holds), 'other', or
 * 'unknown' without /proc.
 */
export async function portHolder(pid: number, port: number): Promise<PortHolder> {
  const table = await listenerTable(pid);
  return table === undefined ? 'unknown' : holderIn(table, port);
}

/**
 * The listening ports `pid` gained since it held the sockets `before` (socketInodes):
 * those of its listeners whose socket is not one of them. What the attach reads before
 * its signal is thus only the target's descriptors (a readdir and a readlink each, about
 * 1 ms), not the tcp tables (10-15 ms of the kernel's time here), which are read only
 * when the inspector has to be looked for beyond its expected port (branch attach8).
 */
export async function newPortsOf(pid: number, before: Set<string>): Promise<Set<number> | undefined> {
  const table = await listenerTable(pid);
  if (table === undefined) return undefined;
  return new Set(table.listeners.filter((l) => table.inodes.has(l.inode) && !before.has(l.inode)).map((l) => l.port));
}

/**
 * Whether `host:port` could be bound here now: true when a listen there succeeds (it is
 * closed at once; no connection is made to anyone), false when it is in use, undefined
 * when a listen cannot tell (a port below 1024, a host we cannot bind). Nothing else
 * listening there is what most attaches find, and this answers it without reading the
 * kernel's tcp tables; a port in use is then looked up in them (portHolder), so a
 * listener that is not the target's is still never talked to.
 */
export function portBindable(endpoint: { host: string; port: number }): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' ? false : undefined));
    server.listen({ host: endpoint.host, port: endpoint.port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
