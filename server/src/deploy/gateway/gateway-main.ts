/**
 * The gateway process:
 *
 *   node server/dist/deploy/gateway/gateway-main.js --control-plane URL [--port 0] [--host 127.0.0.1]
 *     [--id NAME] [--report-interval-ms 1000] [--buffer-timeout-ms 30000]
 *
 * The API token comes from $STRATUM_TOKEN, else $STRATUM_HOME/api-token. Prints exactly one line
 * on stdout, `stratum gateway ready on URL`, once it listens; logs go to stderr. SIGTERM/SIGINT
 * let requests in flight finish, then exit 0.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';

import { clientToken } from '../../config/home';
import { createLogger } from '../../util/log';
import { GATEWAY_NAME, startGateway, type GatewayOptions } from './gateway';

export const USAGE =
  'usage: gateway-main --control-plane URL [--port 0] [--host 127.0.0.1] [--id NAME] [--report-interval-ms 1000] [--buffer-timeout-ms 30000]';

/** argv (without node and script) and the environment → options; throws with the usage on a mistake. */
export function parseGatewayArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): GatewayOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'control-plane': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      id: { type: 'string' },
      'report-interval-ms': { type: 'string' },
      'buffer-timeout-ms': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const int = (flag: 'port' | 'report-interval-ms' | 'buffer-timeout-ms', min: number): number | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min)
      throw new Error(`--${flag} must be an integer ≥ ${min}, got "${text}"\n${USAGE}`);
    return n;
  };
  const url = values['control-plane'];
  if (!url) throw new Error(`--control-plane is required\n${USAGE}`);
  if (!/^https?:\/\/[^/]+/.test(url)) throw new Error(`--control-plane must be an http(s) URL, got "${url}"\n${USAGE}`);
  const token = clientToken(env);
  const port = int('port', 0);
  const reportIntervalMs = int('report-interval-ms', 10);
  const bufferTimeoutMs = int('buffer-timeout-ms', 1);
  return {
    controlPlaneUrl: url.replace(/\/+$/, ''),
    gatewayId: values.id ?? `${hostname()}-${process.pid}`,
    host: values.host ?? '127.0.0.1',
    ...(token ? { token } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(reportIntervalMs !== undefined ? { reportIntervalMs } : {}),
    ...(bufferTimeoutMs !== undefined ? { bufferTimeoutMs } : {}),
  };
}

async function main(): Promise<void> {
  const options = parseGatewayArgs(process.argv.slice(2));
  const log = createLogger(GATEWAY_NAME);
  const gateway = await startGateway({ ...options, log });
  process.stdout.write(`stratum gateway ready on ${gateway.url}\n`);
  const stop = (signal: string): void => {
    log.info({ signal }, 'draining');
    void gateway.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`stratum gateway: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
