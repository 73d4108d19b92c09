/** Grows like an array, ends as a typed array. */
export class Column<T extends Float64Array | Uint32Array | Int8Array | Uint8Array> {
  private data: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  /** The values pushed, as a view of the column's array (no copy; the column is not pushed to after). */
  done(): T {
    return this.data.subarray(0, this.length) as T;
  }
  clear(): void {
    this.data = this.make(1024);
    this.length = 0;
  }
}

/**
 * A map from non-negative integer numbers below 2^53 (the hashes of RecordFacts) to unsigned 32-bit
 * integers (line numbers, indices), kept in typed arrays with open addressing, at most 3/4 full:
 * no allocation per entry, unlike a Map of such keys; 12 bytes a slot, 16–21 per entry.
 */
export class NumberMap {
  private keys: Float64Array;
  private vals: Uint32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let n = 16;
    while (n * 3 < capacity * 4) n *= 2;
    this.keys = new Float64Array(n).fill(-1);
    this.vals = new Uint32Array(n);
    this.mask = n - 1;
  }

  /** The slot of `key`, or of the empty slot where it would go. */
  private find(key: number): number {
    const keys = this.keys;
    let i = Math.imul((key >>> 0) ^ Math.floor(key / 4294967296), 0x9e3779b1) & this.mask;
    while (keys[i] !== -1 && keys[i] !== key) i = (i + 1) & this.mask;
    return i;
  }

  get(key: number): number | undefined {
    const i = this.find(key);
    return this.keys[i] === key ? this.vals[i] : undefined;
  }

  has(key: number): boolean {
    return this.keys[this.find(key)] === key;
  }

  set(key: number, value: number): void {
    const i = this.find(key);
    if (this.keys[i] !== key) {
      if ((this.size + 1) * 4 > this.keys.length * 3) {
        this.grow();
        this.set(key, value);
        return;
      }
      this.keys[i] = key;
      this.size++;
    }
    this.vals[i] = value;
  }

  /** The value of `key` when it is there; else sets it to `value` and returns -1 (one probe). */
  addIfAbsent(key: number, value: number): number {
    const i = this.find(key);
    if (this.keys[i] === key) return this.vals[i];
    if ((this.size + 1) * 4 > this.keys.length * 3) {
      this.grow();
      return this.addIfAbsent(key, value);
    }
    this.keys[i] = key;
    this.vals[i] = value;
    this.size++;
    return -1;
  }

  clear(): void {
    this.keys.fill(-1);
    this.size = 0;
  }

  private grow(): void {
    const { keys, vals } = this;
    this.keys = new Float64Array(keys.length * 2).fill(-1);
    this.vals = new Uint32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== -1) this.set(keys[i], vals[i]);
  }
}
