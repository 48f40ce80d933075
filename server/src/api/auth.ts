/**
 * Bearer-token authentication as a server interceptor: the worker service takes the join
 * token, every other service the API token. Tokens are compared in constant time and never
 * echoed back in errors.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { WorkerService } from '@stratum/proto';
import { timingSafeEqual } from 'node:crypto';

import type { Secrets } from '../config/home';

export function tokenMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function bearerOf(header: string | null): string {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m ? m[1]! : '';
}

export function authInterceptor(secrets: Secrets): Interceptor {
  return (next) => async (req) => {
    const workerCall = req.service.typeName === WorkerService.typeName;
    const expected = workerCall ? secrets.joinToken : secrets.apiToken;
    const presented = bearerOf(req.header.get('authorization'));
    if (!presented) {
      throw new ConnectError(`missing bearer token (${workerCall ? 'join token' : 'API token'})`, Code.Unauthenticated);
    }
    if (!tokenMatches(presented, expected)) {
      throw new ConnectError(`invalid ${workerCall ? 'join' : 'API'} token`, Code.Unauthenticated);
    }
    return next(req);
  };
}
