/**
 * What the warm pool and a warm replica process say to each other, kept apart from both so the
 * pool (in the worker agent) never loads onnxruntime: the line a waiting process prints, and the
 * load command it reads — one JSON array of replica-main arguments.
 */

export const WAITING_LINE = 'stratum warm replica waiting';

/** `stratum replica NAME:VERSION ready on URL`, as replica-main prints it. */
export const READY_LINE = /^stratum replica \S+ ready on (http:\/\/\S+)$/m;

export function encodeLoad(args: readonly string[]): string {
  return JSON.stringify(args);
}

export function parseLoadLine(line: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`the load line is not JSON: ${line.slice(0, 200)}`);
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(
      'the load line must be a JSON array of replica-main arguments, e.g. ["--model","m.onnx","--name","m","--version","1"]',
    );
  }
  return value;
}
