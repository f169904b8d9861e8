/**
 * The shared libraries a native binary asks the loader for, read from its own headers: ELF64 DT_NEEDED
 * entries (what readelf -d lists) and Mach-O 64 LC_LOAD_DYLIB commands (what otool -L lists). Written for
 * the test of what dist/ ships beside each ONNX Runtime binding, an independent check of scripts/bundle.mjs's
 * choice; little-endian 64-bit only, which covers every binary onnxruntime-node ships for the platforms we
 * support. No maintained npm package reads both formats' load lists without native code of its own.
 */
const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const MACHO_64_MAGIC = 0xfeedfacf;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const LC_LOAD_DYLIB = 0xc;
const LC_LOAD_WEAK_DYLIB = 0x80000018;

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

function elfNeeded(buf: Buffer): string[] {
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('not a little-endian 64-bit ELF file');
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const loads: { vaddr: number; offset: number; size: number }[] = [];
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = buf.readUInt32LE(at);
    const offset = Number(buf.readBigUInt64LE(at + 8));
    const vaddr = Number(buf.readBigUInt64LE(at + 16));
    const size = Number(buf.readBigUInt64LE(at + 32));
    if (type === PT_LOAD) loads.push({ vaddr, offset, size });
    if (type === PT_DYNAMIC) dynamic = { offset, size };
  }
  if (!dynamic) return [];
  const needed: number[] = [];
  let strtab = -1;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = buf.readBigInt64LE(at);
    if (tag === DT_NULL) break;
    const value = Number(buf.readBigUInt64LE(at + 8));
    if (tag === DT_NEEDED) needed.push(value);
    if (tag === DT_STRTAB) strtab = value;
  }
  // DT_STRTAB holds a virtual address: map it to a file offset through the loadable segment holding it.
  const seg = loads.find((s) => s.vaddr <= strtab && strtab < s.vaddr + s.size);
  if (!seg) throw new Error('ELF string table outside every loadable segment');
  const strtabOffset = strtab - seg.vaddr + seg.offset;
  return needed.map((n) => cString(buf, strtabOffset + n));
}

function machoDylibs(buf: Buffer): string[] {
  const ncmds = buf.readUInt32LE(16);
  const out: string[] = [];
  let at = 32; // mach_header_64
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + 4);
    if (cmd === LC_LOAD_DYLIB || cmd === LC_LOAD_WEAK_DYLIB)
      out.push(cString(buf, at + buf.readUInt32LE(at + 8)));
    at += size;
  }
  return out;
}

/** The libraries the binary links, as its headers name them (e.g. "libc.so.6", "@rpath/libfoo.1.dylib"). */
export function linkedLibraries(buf: Buffer): string[] {
  const magic = buf.readUInt32LE(0);
  if (magic === ELF_MAGIC) return elfNeeded(buf);
  if (magic === MACHO_64_MAGIC) return machoDylibs(buf);
  throw new Error(`unknown binary format (magic 0x${magic.toString(16)})`);
}
