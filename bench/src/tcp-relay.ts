/**
 * A TCP relay: each client connection gets its own connection to the target and bytes are
 * copied both ways, nothing parsed. No proxy can add less than this (one more process to wake,
 * two more socket writes per request), so it is the serving matrix's floor for the gateway.
 *
 *   node bench/dist/tcp-relay.js TARGET_URL     prints "relay on http://127.0.0.1:PORT"
 */
import { connect, createServer, type AddressInfo } from 'node:net';

import { startServer, type Started } from './process';

export function relay(target: URL): Promise<string> {
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

/** The relay in a process of its own (in the load generator's it would take its event loop). */
export const startRelay = (target: string): Promise<Started> => startServer([__filename, target], /relay on (\S+)/);

if (require.main === module) {
  void relay(new URL(process.argv[2]!)).then((url) => console.log(`relay on ${url}`));
}
