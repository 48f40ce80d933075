/**
 * One port for both HTTP versions. Node's plaintext HTTP/2 server cannot downgrade, yet
 * gRPC clients need HTTP/2 (h2c, prior knowledge) and browsers behind jupyter-server-proxy
 * speak HTTP/1.1. The first bytes of a connection tell which: an HTTP/2 client opens with
 * the preface "PRI * HTTP/2.0".
 */
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type DualHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

export interface DualServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting and ends open connections (long polls and watch streams included). */
  close(): Promise<void>;
}

const PREFACE = 'PRI * HTTP/2.0';

export function createDualServer(handler: DualHandler): DualServer {
  const h1 = createHttp1Server(handler as (req: IncomingMessage, res: ServerResponse) => void);
  const h2 = createHttp2Server(handler as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
  const sockets = new Set<Socket>();
  // No Nagle: small RPC frames must not wait for an ACK (delayed ACKs add ~40 ms per call).
  const server = createNetServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Read (not 'data') and unshift: the HTTP/2 session picks buffered bytes up on setup,
    // while bytes already emitted as 'data' would be lost to it.
    let head = Buffer.alloc(0);
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) head = Buffer.concat([head, chunk]);
      const probe = head.toString('latin1', 0, PREFACE.length);
      if (head.length < PREFACE.length && PREFACE.startsWith(probe)) return;
      socket.off('readable', onReadable);
      socket.unshift(head);
      (probe === PREFACE ? h2 : h1).emit('connection', socket);
    };
    socket.on('readable', onReadable);
    socket.on('error', () => socket.destroy());
  });
  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve(server.address() as AddressInfo));
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
