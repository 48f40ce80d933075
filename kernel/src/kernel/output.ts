/**
 * Where one execution's output goes: iopub messages with the request as their parent. Built
 * per request by the server (server.ts) and handed to the handler.
 */
import type { ErrorContent } from '../api/errors';
import type { CellOutput, MimeBundle } from '../types';

/** tslab's display message content: data by MIME type, metadata, transient display id. */
export interface DisplayData {
  data: { [mime: string]: string | Uint8Array };
  metadata: { [key: string]: string };
  transient: { display_id?: string };
}

export interface KernelOutput extends CellOutput {
  /** tslab's writer for `display_data` / `update_display_data`. */
  readonly displayData: (data: DisplayData, update: boolean) => void;
  /** A replacement for `process.stdout.write` / `process.stderr.write` that writes to this cell. */
  writer(name: 'stdout' | 'stderr'): typeof process.stdout.write;
  error(content: ErrorContent): void;
}

export type Send = (msgType: string, content: object) => void;

export function kernelOutput(send: Send): KernelOutput {
  const stream = (name: 'stdout' | 'stderr', text: string): void => send('stream', { name, text });
  const displayData = (data: DisplayData, update: boolean): void =>
    send(update ? 'update_display_data' : 'display_data', data);
  const decoder = new TextDecoder();
  return {
    stream,
    displayData,
    display(bundle: MimeBundle, o = {}) {
      // Bundles may hold JSON (Vega-Lite): the message is JSON, so they travel as they are.
      const data = bundle as unknown as DisplayData['data'];
      displayData({ data, metadata: {}, transient: o.id ? { display_id: o.id } : {} }, Boolean(o.update));
    },
    writer(name) {
      return ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        stream(name, typeof chunk === 'string' ? chunk : decoder.decode(chunk));
        const callback = rest.find((r): r is () => void => typeof r === 'function');
        callback?.();
        return true;
      }) as typeof process.stdout.write;
    },
    error: (content) => send('error', content),
  };
}
