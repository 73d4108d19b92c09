/**
 * The part of the WebAssembly API the SIMD kernels use (src/core/store/kernel.ts,
 * src/core/validate/kernel.ts), and a module compiled once per thread from the bytes the build
 * assembled: undefined where WebAssembly or its SIMD instructions are missing.
 */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: unknown };
  Memory: new (d: { initial: number; maximum?: number }) => { readonly buffer: ArrayBuffer };
}

export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** `bytes` compiled on first use (null: it could not be), or a module another thread compiled. */
export class CompiledWasm {
  private compiled: object | null | undefined;

  constructor(private readonly bytes: Uint8Array) {}

  module(): object | undefined {
    if (this.compiled === undefined) {
      try {
        const wa = wasmApi();
        this.compiled = wa ? new wa.Module(this.bytes) : null;
      } catch {
        this.compiled = null; // no WebAssembly SIMD here
      }
    }
    return this.compiled ?? undefined;
  }

  /** Uses `m` (compiled elsewhere and handed over) unless this thread compiled one already. */
  adopt(m: object | undefined): void {
    if (this.compiled === undefined && m !== undefined) this.compiled = m;
  }
}
