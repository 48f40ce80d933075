/**
 * Which control plane to talk to, resolved like the CLI does it: an explicit server/token, else
 * STRATUM_SERVER / STRATUM_TOKEN, else $STRATUM_HOME's server.json and api-token. Resolved at
 * each call, so a cell that changes `process.env` takes effect; clients are kept per address.
 */
import { createStratumClient, type StratumClient } from '@stratum/server/dist/client';
import { serverUrl } from '@stratum/server/dist/cli/client-commands';
import { clientToken } from '@stratum/server/dist/config/home';

import type { SpecOrigin } from './diagnostics';
import { explain } from './errors';

export interface ConnectOptions {
  /** Control plane URL (default: STRATUM_SERVER, $STRATUM_HOME/server.json, http://127.0.0.1:7070). */
  readonly server?: string;
  /** API token (default: STRATUM_TOKEN, $STRATUM_HOME/api-token). */
  readonly token?: string;
}

export interface Connection {
  readonly url: string;
  readonly client: StratumClient;
  /** Runs one call; whatever it throws comes out explained (see `explain`). */
  call<T>(fn: (client: StratumClient) => Promise<T>, origin?: SpecOrigin): Promise<T>;
}

/** How long a unary call may wait for the control plane before it counts as unreachable. */
export const CALL_TIMEOUT_MS = 20000;

export class Connections {
  private readonly clients = new Map<string, StratumClient>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  resolve(o: ConnectOptions = {}): Connection {
    const url = serverUrl(o.server ? { server: o.server } : {}, this.env);
    const token = o.token ?? clientToken(this.env);
    const key = `${url}\n${token ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = createStratumClient({ url, token });
      this.clients.set(key, client);
    }
    const bound = client;
    return {
      url,
      client: bound,
      call: async (fn, origin) => {
        try {
          return await fn(bound);
        } catch (e) {
          throw explain(e, url, origin);
        }
      },
    };
  }
}
