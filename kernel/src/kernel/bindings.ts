/**
 * Values the magics hand to the TypeScript session (`%stratum train p --as run`): the kernel
 * parks the value under a global key and executes one generated declaration through tslab, so
 * the variable is typed for the cells after it like any other.
 */
const KEY = '__stratum_bindings__';

type Store = Map<string, unknown>;

function store(): Store {
  const g = globalThis as { [KEY]?: Store };
  g[KEY] ??= new Map();
  return g[KEY];
}

export function putBinding(name: string, value: unknown): void {
  store().set(name, value);
}

/** The TypeScript that declares `name: type` from the parked value. */
export function bindingCode(name: string, type: string): string {
  return `let ${name} = (globalThis as any).${KEY}.get(${JSON.stringify(name)}) as ${type};`;
}
