// The informer's cache: objects by cluster key (`clusterKey`), plus named secondary indexes (index name → indexed
// value → keys), maintained on every write. Readers get `StoreReader`; only the informer writes.
import type { KubeObject } from './types.ts';

/** Maps an object to the index values it is filed under (e.g. its labels, its owner's key). */
export type IndexFunc<T> = (obj: T) => string[];

export type StoreReader<T extends KubeObject> = {
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  readonly size: number;
  /** Objects filed under `value` in index `name`; throws for an unknown index name. */
  byIndex(name: string, value: string): T[];
  /** Keys filed under `value` in index `name`. */
  indexKeys(name: string, value: string): string[];
};

type Index<T> = { fn: IndexFunc<T>; byValue: Map<string, Set<string>> };

export class Store<T extends KubeObject> implements StoreReader<T> {
  readonly #items = new Map<string, T>();
  readonly #indexes = new Map<string, Index<T>>();

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  get size(): number {
    return this.#items.size;
  }

  /** Adds index `name` and files every object already present. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#indexes.has(name)) throw new Error(`index ${name} already exists`);
    const index: Index<T> = { fn, byValue: new Map() };
    this.#indexes.set(name, index);
    for (const [key, obj] of this.#items) file(index, key, obj);
  }

  byIndex(name: string, value: string): T[] {
    const out: T[] = [];
    for (const key of this.indexKeys(name, value)) {
      const obj = this.#items.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  indexKeys(name: string, value: string): string[] {
    const index = this.#indexes.get(name);
    if (index === undefined) throw new Error(`no index named ${name}`);
    return [...(index.byValue.get(value) ?? [])];
  }

  /** Stores `obj` under `key` and returns the object it replaced. */
  upsert(key: string, obj: T): T | undefined {
    const old = this.#items.get(key);
    if (old !== undefined) for (const index of this.#indexes.values()) unfile(index, key, old);
    this.#items.set(key, obj);
    for (const index of this.#indexes.values()) file(index, key, obj);
    return old;
  }

  /** Removes `key` and returns the object it held. */
  remove(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    for (const index of this.#indexes.values()) unfile(index, key, old);
    this.#items.delete(key);
    return old;
  }
}

function file<T>(index: Index<T>, key: string, obj: T): void {
  for (const value of index.fn(obj)) {
    let keys = index.byValue.get(value);
    if (keys === undefined) index.byValue.set(value, (keys = new Set()));
    keys.add(key);
  }
}

function unfile<T>(index: Index<T>, key: string, obj: T): void {
  for (const value of index.fn(obj)) {
    const keys = index.byValue.get(value);
    if (keys === undefined) continue;
    keys.delete(key);
    if (keys.size === 0) index.byValue.delete(value);
  }
}
