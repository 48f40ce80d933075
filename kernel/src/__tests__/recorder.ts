/** A CellOutput that keeps what it was given, for tests of magics and live views. */
import type { CellOutput, MimeBundle } from '../types';

export interface Shown {
  readonly bundle: MimeBundle;
  readonly id?: string;
  readonly update: boolean;
}

export class Recorder implements CellOutput {
  readonly shown: Shown[] = [];
  readonly streams: { name: string; text: string }[] = [];

  stream(name: 'stdout' | 'stderr', text: string): void {
    this.streams.push({ name, text });
  }

  display(bundle: MimeBundle, o: { id?: string; update?: boolean } = {}): void {
    this.shown.push({ bundle, id: o.id, update: Boolean(o.update) });
  }

  text(): string {
    return this.streams.map((s) => s.text).join('');
  }
}
