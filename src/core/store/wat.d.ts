/** WebAssembly text modules, bundled as their assembled bytes (scripts/build.mjs). */
declare module '*.wat' {
  const bytes: Uint8Array;
  export default bytes;
}
