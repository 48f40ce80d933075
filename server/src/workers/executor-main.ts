/** Entry point of an executor child process: runs trials sent by its agent, one at a time. */
import { InProcessExecutor, type FromChild, type ToChild } from './executor';

const executor = new InProcessExecutor();
let stopRequested = false;

function send(m: FromChild): void {
  process.send?.(m);
}

process.on('message', (m: ToChild) => {
  if (m.type === 'stop') {
    stopRequested = true;
    return;
  }
  stopRequested = false;
  const ac = new AbortController();
  executor
    .run(
      m.input,
      {
        onProgress: (epoch, progress, metrics) => send({ type: 'progress', epoch, progress, metrics }),
        shouldStop: () => stopRequested,
      },
      ac.signal,
    )
    .then(
      (output) => send({ type: 'done', output }),
      (e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
});

// The agent going away (even by kill -9) closes the IPC channel: follow it.
process.on('disconnect', () => process.exit(0));
