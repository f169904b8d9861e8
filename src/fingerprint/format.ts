/**
 * The fingerprint file format (docs/format.md), version FINGERPRINT_FORMAT_VERSION:
 *   bytes 0-3   magic "MFP1"
 *   bytes 4-7   uint32 LE: length H of the JSON header
 *   8 .. 8+H    UTF-8 JSON {header, selfChecks, blocks: [{name, offset, length}]}
 *   then zero padding to a multiple of 4, then the data section: little-endian float32 values;
 *   a block's offset and length count float32 values from the start of the data section.
 * Non-finite numbers in the JSON (NaN/Infinity in self-check scores) are written as null and read back as NaN.
 * The header's optional `features` (FEATURES_VERSION: what the blocks mean) is kept as written; a file
 * without it reads as features version 1 through featuresVersionOf.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import {
  FINGERPRINT_FORMAT_VERSION,
  type Fingerprint,
  type FingerprintHeader,
  type SelfCheck,
} from './types.js';

export const FINGERPRINT_MAGIC = 'MFP1';
/** Largest JSON header accepted when reading (bytes). */
export const MAX_FINGERPRINT_HEADER_BYTES = 16 * 1024 * 1024;

interface FileJson {
  header: FingerprintHeader;
  selfChecks: Record<string, SelfCheck>;
  blocks: { name: string; offset: number; length: number }[];
}

export function encodeFingerprint(fp: Fingerprint): Uint8Array {
  const names = Object.keys(fp.blocks);
  let offset = 0;
  const blocks = names.map((name) => {
    const length = fp.blocks[name].length;
    const b = { name, offset, length };
    offset += length;
    return b;
  });
  const json: FileJson = { header: fp.header, selfChecks: fp.selfChecks, blocks };
  const text = JSON.stringify(json, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? null : v,
  );
  const head = new TextEncoder().encode(text);
  const dataStart = 8 + head.length + ((4 - (head.length % 4)) % 4);
  const out = new Uint8Array(dataStart + offset * 4);
  out.set(new TextEncoder().encode(FINGERPRINT_MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, head.length, true);
  out.set(head, 8);
  for (const b of blocks) {
    const v = fp.blocks[b.name];
    for (let i = 0; i < v.length; i++) dv.setFloat32(dataStart + (b.offset + i) * 4, v[i], true);
  }
  return out;
}

function corrupt(file: string, why: string): never {
  throw new InputError(
    'baseline-invalid',
    `${file}: not a valid fingerprint file (${why}); recreate it with \`model-fingerprint fingerprint\``,
    file,
  );
}

function nullsToNaN(v: unknown): unknown {
  if (v === null) return Number.NaN;
  if (Array.isArray(v)) return v.map(nullsToNaN);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, nullsToNaN(x)]),
    );
  }
  return v;
}

export function decodeFingerprint(bytes: Uint8Array, file = 'fingerprint'): Fingerprint {
  if (bytes.length < 8) corrupt(file, 'too short');
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== FINGERPRINT_MAGIC) corrupt(file, 'bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(4, true);
  if (hlen > MAX_FINGERPRINT_HEADER_BYTES || 8 + hlen > bytes.length)
    corrupt(file, 'header length past the end');
  let json: FileJson;
  try {
    json = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen)),
    ) as FileJson;
  } catch {
    corrupt(file, 'header is not JSON');
  }
  if (!json || typeof json !== 'object' || !json.header || !Array.isArray(json.blocks))
    corrupt(file, 'header fields');
  if (json.header.formatVersion !== FINGERPRINT_FORMAT_VERSION) {
    throw new InputError(
      'baseline-invalid',
      `${file}: fingerprint format version ${String(json.header.formatVersion)} is not supported (this tool reads version ${FINGERPRINT_FORMAT_VERSION}); recreate it with this version`,
      file,
    );
  }
  // Optional and additive (the file format stays 1): absent = features version 1 (featuresVersionOf).
  const features: unknown = json.header.features;
  if (features !== undefined && !(Number.isSafeInteger(features) && (features as number) >= 1))
    corrupt(
      file,
      `header field "features" is ${typeof features === 'number' ? String(features) : `a ${typeof features}`}, not a positive integer`,
    );
  const dataStart = 8 + hlen + ((4 - (hlen % 4)) % 4);
  const values = Math.floor((bytes.length - dataStart) / 4);
  if (dataStart > bytes.length || (bytes.length - dataStart) % 4 !== 0) corrupt(file, 'data section length');
  const blocks: Record<string, Float32Array> = {};
  for (const b of json.blocks) {
    if (
      typeof b?.name !== 'string' ||
      !Number.isSafeInteger(b.offset) ||
      !Number.isSafeInteger(b.length) ||
      b.offset < 0 ||
      b.length < 0 ||
      b.offset + b.length > values
    ) {
      corrupt(file, `block "${String(b?.name)}" lies outside the data`);
    }
    const v = new Float32Array(b.length);
    for (let i = 0; i < b.length; i++) v[i] = dv.getFloat32(dataStart + (b.offset + i) * 4, true);
    blocks[b.name] = v;
  }
  return {
    header: json.header,
    selfChecks: nullsToNaN(json.selfChecks ?? {}) as Record<string, SelfCheck>,
    blocks,
  };
}

export async function writeFingerprint(path: string, fp: Fingerprint): Promise<void> {
  await writeFile(path, encodeFingerprint(fp));
}

export async function readFingerprint(path: string): Promise<Fingerprint> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new InputError('not-found', `${path}: no such fingerprint file`, path);
  }
  return decodeFingerprint(bytes, path);
}
