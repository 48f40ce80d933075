/**
 * Model profiles (ProfileService.GetProfile): what the profiler measured for a model version,
 * fetched when its details open. A control plane without a profiler, or a model never
 * profiled, is a plain "no profile" with the reason. No DOM.
 */
import type { ModelProfile } from '@stratum/proto';
import { Signal, type ISignal } from '@lumino/signaling';

import { describeError, isNotFound, isUnimplemented } from '../api';
import type { IStratumApi } from '../tokens';

export type ProfileState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'ready'; readonly profile: ModelProfile }
  | { readonly kind: 'error'; readonly message: string };

export const NO_PROFILER = 'No profile available: this control plane does not run the profiler.';

export function noProfileYet(ref: string): string {
  const name = ref.split(':')[0];
  return `No profile available: ${ref} has not been profiled yet (stratum profile ${name} measures it).`;
}

export class ProfilesModel {
  constructor(private readonly _api: () => IStratumApi) {}

  /** Emitted when any model's profile state changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The profile state of "name:version", once asked for. */
  state(ref: string): ProfileState | undefined {
    return this._states.get(ref);
  }

  /** Asks for the latest profile of "name:version" (again, if asked before). */
  async load(ref: string): Promise<void> {
    if (!this._states.has(ref)) this._update(ref, { kind: 'loading' });
    let next: ProfileState;
    try {
      const { profile } = await this._api().profiles.getProfile({ model: ref });
      next = profile ? { kind: 'ready', profile } : { kind: 'none', reason: noProfileYet(ref) };
    } catch (err) {
      next = isUnimplemented(err)
        ? { kind: 'none', reason: NO_PROFILER }
        : isNotFound(err)
          ? { kind: 'none', reason: noProfileYet(ref) }
          : { kind: 'error', message: describeError(err) };
    }
    this._update(ref, next);
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _update(ref: string, state: ProfileState): void {
    this._states.set(ref, state);
    this._changed.emit();
  }

  private readonly _states = new Map<string, ProfileState>();
  private readonly _changed = new Signal<this, void>(this);
}
