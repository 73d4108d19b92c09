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
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}
