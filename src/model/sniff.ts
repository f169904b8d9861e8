/**
 * Looks at a model file's first bytes before any parsing and refuses the common wrong files with a specific
 * message and fix: an empty file, a Git LFS pointer (the checkout did not fetch LFS objects), a Python
 * pickle or zip (a PyTorch .pt/.pth checkpoint or a numpy archive, not ONNX), numpy/HDF5/safetensors files,
 * and text. Anything that cannot start an ONNX ModelProto is refused too; the parser decides the rest.
 */
import { InputError } from '../errors.js';
import { topLevelFieldCounts } from './proto-scan.js';

const LFS_PREFIX = 'version https://git-lfs.github.com/spec/v1';

/**
 * First bytes a ModelProto can start with: the tag of one of its fields (ir_version=1 varint, producer_name=2,
 * producer_version=3, domain=4, model_version=5, doc_string=6, graph=7, opset_import=8, metadata_props=14,
 * training_info=20, functions=25, configuration=26). Exporters write ir_version (0x08) first.
 */
const MODEL_PROTO_FIRST_TAGS = new Set([0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72]);
const MODEL_PROTO_TWO_BYTE_TAGS = new Set(['a2,01', 'ca,01', 'd2,01']);

function startsWith(bytes: Uint8Array, prefix: string | number[]): boolean {
  const p = typeof prefix === 'string' ? Array.from(prefix, (c) => c.charCodeAt(0)) : prefix;
  if (bytes.length < p.length) return false;
  return p.every((b, i) => bytes[i] === b);
}

/** Mostly printable ASCII/UTF-8 text in the first bytes. */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0) return false;
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0xc2) printable++;
  }
  return n > 0 && printable / n > 0.95;
}

/** Throws an InputError when `bytes` (the start of `file`, or all of it) cannot be an ONNX model. */
export function sniffModelBytes(bytes: Uint8Array, file: string): void {
  if (bytes.length === 0) {
    throw new InputError(
      'empty-file',
      `${file}: the file is empty (0 bytes); commit the exported .onnx model`,
      file,
    );
  }
  if (startsWith(bytes, LFS_PREFIX)) {
    throw new InputError(
      'lfs-pointer',
      `${file}: this is a Git LFS pointer, not the model; set \`lfs: true\` on actions/checkout (or run \`git lfs pull\`) so the real file is fetched`,
      file,
    );
  }
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    throw new InputError(
      'pickle-file',
      `${file}: this is a Python pickle (a PyTorch checkpoint?), not ONNX; export it with torch.onnx.export and scan the .onnx file (pickles can run code, so it is not opened)`,
      file,
    );
  }
  if (startsWith(bytes, 'PK\x03\x04') || startsWith(bytes, 'PK\x05\x06')) {
    throw new InputError(
      'zip-file',
      `${file}: this is a zip archive (a PyTorch .pt/.pth checkpoint or a numpy .npz?), not ONNX; export the model with torch.onnx.export and scan the .onnx file`,
      file,
    );
  }
  if (startsWith(bytes, '\x93NUMPY')) {
    throw new InputError('not-onnx', `${file}: this is a numpy .npy array, not an ONNX model`, file);
  }
  if (startsWith(bytes, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])) {
    throw new InputError(
      'not-onnx',
      `${file}: this is an HDF5 file (a Keras .h5 model?), not ONNX; convert it with tf2onnx and scan the .onnx file`,
      file,
    );
  }
  if (bytes.length > 9 && bytes[8] === 0x7b && bytes[9] === 0x22 && bytes[6] === 0 && bytes[7] === 0) {
    throw new InputError(
      'not-onnx',
      `${file}: this looks like a safetensors weights file, not ONNX; export the full model to ONNX and scan that`,
      file,
    );
  }
  const first = bytes[0];
  const two = bytes.length > 1 ? `${first.toString(16)},${bytes[1].toString(16).padStart(2, '0')}` : '';
  const tagStart = MODEL_PROTO_FIRST_TAGS.has(first) || MODEL_PROTO_TWO_BYTE_TAGS.has(two);
  // A real model may begin with a long doc_string (text-like bytes), so text that also scans as a valid
  // ModelProto field sequence is left to the parser.
  if (looksLikeText(bytes) && (!tagStart || !(topLevelFieldCounts(bytes) instanceof Map))) {
    throw new InputError(
      'not-onnx',
      `${file}: this is a text file, not an ONNX model (binary protobuf)`,
      file,
    );
  }
  if (!tagStart) {
    throw new InputError(
      'not-onnx',
      `${file}: not an ONNX model (unexpected first byte 0x${first.toString(16).padStart(2, '0')}); export the model to .onnx`,
      file,
    );
  }
}
