// snappyjs ships no types; the two functions the collector uses (snappy block format).
declare module 'snappyjs' {
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(input: Uint8Array): Uint8Array;
}
