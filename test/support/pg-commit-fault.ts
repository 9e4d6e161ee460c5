// A TCP relay between a PostgreSQL client and a real PostgreSQL that breaks one connection exactly at
// COMMIT, the way a network failure would: it reads the PostgreSQL wire protocol from the client
// (a length-prefixed start-up message, then type byte + length messages) and, when armed, acts on the
// next simple-protocol `COMMIT`. Either the COMMIT never reaches the server ('before': the server sees
// its client vanish mid-transaction and rolls back) or it reaches the server and the reply is thrown
// away ('reply-lost': the server commits, the client sees only a dead connection), or it is sent and
// the connection cut at once without waiting for any reply ('sent-then-cut'). While `refusing`,
// new connections are closed at once (PostgreSQL unreachable). Imports nothing of ours.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type CommitFault = 'before' | 'reply-lost' | 'sent-then-cut';

export class PgCommitFault {
  private readonly server: Server;
  private readonly target: { host: string; port: number };
  private armed: { fault: CommitFault; fired: () => void } | undefined;
  private readonly sockets = new Set<Socket>();
  refusing = false;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.server = server;
    this.target = target;
  }

  static async start(targetUrl: string): Promise<PgCommitFault> {
    const url = new URL(targetUrl);
    const server = createServer();
    const relay = new PgCommitFault(server, { host: url.hostname, port: Number(url.port) });
    server.on('connection', (socket) => relay.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  /** The same database URL, through the relay. */
  url(targetUrl: string): string {
    const url = new URL(targetUrl);
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('relay is not listening');
    url.port = String(address.port);
    return url.toString();
  }

  /** Breaks the next COMMIT that passes; resolves once it has been broken. */
  arm(fault: CommitFault): Promise<void> {
    return new Promise((resolve) => {
      this.armed = { fault, fired: resolve };
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    let replyLost = false;
    upstream.on('data', (chunk: Buffer) => {
      if (replyLost) {
        // The server has answered the COMMIT (so it is done); the client never hears it.
        cut();
        return;
      }
      client.write(chunk);
    });
    let pending = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        // The start-up message (and an SSL or cancel request) has no type byte, only a length.
        const header = started ? 5 : 4;
        if (pending.length < header) return;
        const length = started ? pending.readInt32BE(1) + 1 : pending.readInt32BE(0);
        if (pending.length < length) return;
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        if (!started) {
          started = true;
          upstream.write(message);
          continue;
        }
        const armed = this.armed;
        const isCommit = message[0] === 0x51 /* 'Q' */ && message.subarray(5, length - 1).toString('utf8').trim().toUpperCase() === 'COMMIT';
        if (armed === undefined || !isCommit) {
          upstream.write(message);
          continue;
        }
        this.armed = undefined;
        if (armed.fault === 'before') {
          cut();
        } else if (armed.fault === 'sent-then-cut') {
          // end() flushes the COMMIT before closing; only then is the client's side cut.
          upstream.end(message, () => client.destroy());
        } else {
          replyLost = true;
          upstream.write(message);
        }
        armed.fired();
        return;
      }
    });
  }
}
