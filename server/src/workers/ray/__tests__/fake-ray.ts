/**
 * A stand-in for the part of Ray's Job Submission API the provisioner relies on, answering as
 * Ray 2.x does (shapes checked against a real head in ray-e2e.test.ts): submit, details, list,
 * stop, logs, 404 for an unknown job, and 405 for POSTs that look like a browser's.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface FakeJob {
  submission_id: string;
  job_id: null;
  type: 'SUBMISSION';
  status: string;
  message: string;
  entrypoint: string;
  metadata: Record<string, string>;
  runtime_env: { env_vars?: Record<string, string> };
  entrypoint_num_cpus?: number;
  entrypoint_num_gpus?: number;
  entrypoint_memory?: number;
  entrypoint_resources?: Record<string, number>;
  logs: string;
}

export interface FakeRay {
  readonly url: string;
  readonly jobs: Map<string, FakeJob>;
  readonly requests: string[];
  /** Next submission answers this HTTP status (once). */
  failNextSubmit(status: number): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => resolve(body));
  });
}

export async function startFakeRay(): Promise<FakeRay> {
  const jobs = new Map<string, FakeJob>();
  const requests: string[] = [];
  let failNext: number | undefined;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      requests.push(`${req.method} ${req.url}`);
      const send = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(typeof value === 'string' ? value : JSON.stringify(value));
      };
      if (req.method === 'POST' && (req.headers['sec-fetch-mode'] || req.headers.origin)) {
        return send(405, `'POST' method not allowed for browser traffic.`);
      }
      const m = /^\/api\/jobs\/(?:([^/]+)(?:\/(stop|logs))?)?$/.exec(req.url ?? '');
      if (!m) return send(404, 'not found');
      const id = m[1] ? decodeURIComponent(m[1]) : undefined;
      const view = (j: FakeJob): Omit<FakeJob, 'logs'> => {
        const { logs, ...rest } = j;
        void logs;
        return rest;
      };
      if (!id) {
        if (req.method === 'GET') return send(200, [...jobs.values()].map(view));
        if (failNext !== undefined) {
          const status = failNext;
          failNext = undefined;
          return send(status, 'Job resources are not valid');
        }
        const b = JSON.parse(body) as Partial<FakeJob> & { runtime_env?: FakeJob['runtime_env'] };
        const sid = b.submission_id ?? `raysubmit_${jobs.size}`;
        if (jobs.has(sid)) return send(400, `Job with submission_id ${sid} already exists.`);
        jobs.set(sid, {
          submission_id: sid,
          job_id: null,
          type: 'SUBMISSION',
          status: 'PENDING',
          message: 'Job has not started yet.',
          entrypoint: b.entrypoint ?? '',
          metadata: b.metadata ?? {},
          runtime_env: b.runtime_env ?? {},
          ...(b.entrypoint_num_cpus !== undefined ? { entrypoint_num_cpus: b.entrypoint_num_cpus } : {}),
          ...(b.entrypoint_num_gpus !== undefined ? { entrypoint_num_gpus: b.entrypoint_num_gpus } : {}),
          ...(b.entrypoint_memory !== undefined ? { entrypoint_memory: b.entrypoint_memory } : {}),
          ...(b.entrypoint_resources !== undefined ? { entrypoint_resources: b.entrypoint_resources } : {}),
          logs: '',
        });
        return send(200, { job_id: sid, submission_id: sid });
      }
      const job = jobs.get(id);
      if (!job) return send(404, `Job ${id} does not exist`);
      if (m[2] === 'stop') {
        const running = job.status === 'PENDING' || job.status === 'RUNNING';
        if (running) Object.assign(job, { status: 'STOPPED', message: 'Job was intentionally stopped.' });
        return send(200, { stopped: running });
      }
      if (m[2] === 'logs') return send(200, { logs: job.logs });
      return send(200, view(job));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    jobs,
    requests,
    failNextSubmit: (status) => (failNext = status),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
