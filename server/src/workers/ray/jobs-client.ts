/**
 * The one module that talks to Ray: a thin client of the Job Submission REST API that the Ray
 * dashboard serves (default port 8265). Every side effect of the Ray provisioner goes through
 * it, so the logic around it is tested against a stand-in server.
 *
 *   POST /api/jobs/                  submit  → { submission_id }
 *   GET  /api/jobs/{id}              details → { status, message, ... }
 *   GET  /api/jobs/                  list    → [details]
 *   POST /api/jobs/{id}/stop         stop    → { stopped }
 *   GET  /api/jobs/{id}/logs         logs    → { logs }
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type RayJobStatus = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';

export const TERMINAL_JOB_STATUSES: ReadonlySet<RayJobStatus> = new Set(['STOPPED', 'SUCCEEDED', 'FAILED']);

export interface RayJobSubmission {
  readonly entrypoint: string;
  readonly submissionId: string;
  readonly numCpus?: number;
  readonly numGpus?: number;
  /** Bytes. */
  readonly memory?: number;
  /** Custom resources, e.g. { "stratum-tier-edge": 1 }. */
  readonly resources?: Readonly<Record<string, number>>;
  readonly envVars?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface RayJobInfo {
  readonly submissionId: string;
  readonly status: RayJobStatus;
  readonly message: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly startTime?: number;
  readonly endTime?: number;
}

export class RayApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RayApiError';
  }
}

export interface RayJobsClientOptions {
  /** The dashboard's address, e.g. http://127.0.0.1:8265. */
  readonly address: string;
  readonly timeoutMs?: number;
  /** Sent as `Authorization` when set (a proxy in front of the dashboard). */
  readonly authorization?: string;
}

interface WireJob {
  submission_id?: string | null;
  job_id?: string | null;
  status?: string;
  message?: string | null;
  metadata?: Record<string, string> | null;
  start_time?: number | null;
  end_time?: number | null;
}

function fromWire(j: WireJob): RayJobInfo {
  return {
    submissionId: j.submission_id ?? j.job_id ?? '',
    status: (j.status ?? 'PENDING') as RayJobStatus,
    message: j.message ?? '',
    metadata: j.metadata ?? {},
    ...(j.start_time ? { startTime: j.start_time } : {}),
    ...(j.end_time ? { endTime: j.end_time } : {}),
  };
}

export class RayJobsClient {
  private readonly base: string;

  constructor(private readonly o: RayJobsClientOptions) {
    this.base = o.address.replace(/\/+$/, '');
  }

  get address(): string {
    return this.base;
  }

  /**
   * One request with node:http, not fetch: Ray's dashboard refuses POSTs that look like they come
   * from a browser, and fetch always sends `Sec-Fetch-Mode`.
   */
  private call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = new URL(`${this.base}${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          timeout: this.o.timeoutMs ?? 10000,
          headers: {
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
            ...(this.o.authorization ? { authorization: this.o.authorization } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new RayApiError(`Ray job API ${method} ${path}: ${e.message}`)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              return reject(
                new RayApiError(`Ray job API ${method} ${path}: HTTP ${status} ${text.slice(0, 500).trim()}`, status),
              );
            }
            try {
              resolve(JSON.parse(text) as T);
            } catch {
              reject(new RayApiError(`Ray job API ${method} ${path}: not JSON: ${text.slice(0, 200)}`, status));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.o.timeoutMs ?? 10000} ms`)));
      req.on('error', (e) => reject(new RayApiError(`Ray job API at ${this.base} unreachable: ${e.message}`)));
      req.end(payload);
    });
  }

  async submit(job: RayJobSubmission): Promise<string> {
    const body = {
      entrypoint: job.entrypoint,
      submission_id: job.submissionId,
      ...(job.numCpus !== undefined ? { entrypoint_num_cpus: job.numCpus } : {}),
      ...(job.numGpus ? { entrypoint_num_gpus: job.numGpus } : {}),
      ...(job.memory ? { entrypoint_memory: job.memory } : {}),
      ...(job.resources && Object.keys(job.resources).length > 0 ? { entrypoint_resources: job.resources } : {}),
      ...(job.envVars ? { runtime_env: { env_vars: job.envVars } } : {}),
      ...(job.metadata ? { metadata: job.metadata } : {}),
    };
    const r = await this.call<{ submission_id?: string; job_id?: string }>('POST', '/api/jobs/', body);
    return r.submission_id ?? r.job_id ?? job.submissionId;
  }

  /** The job, or undefined when Ray does not know it. */
  async get(submissionId: string): Promise<RayJobInfo | undefined> {
    try {
      return fromWire(await this.call<WireJob>('GET', `/api/jobs/${encodeURIComponent(submissionId)}`));
    } catch (e) {
      if (e instanceof RayApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  async list(): Promise<RayJobInfo[]> {
    const r = await this.call<WireJob[] | Record<string, WireJob>>('GET', '/api/jobs/');
    // Older Ray versions answered a map of job id → details.
    return (Array.isArray(r) ? r : Object.values(r)).map(fromWire);
  }

  /** Asks Ray to stop the job (SIGTERM, then SIGKILL after a grace period); false when already ended. */
  async stop(submissionId: string): Promise<boolean> {
    const r = await this.call<{ stopped?: boolean }>('POST', `/api/jobs/${encodeURIComponent(submissionId)}/stop`);
    return r.stopped === true;
  }

  async logs(submissionId: string): Promise<string> {
    const r = await this.call<{ logs?: string }>('GET', `/api/jobs/${encodeURIComponent(submissionId)}/logs`);
    return r.logs ?? '';
  }
}
