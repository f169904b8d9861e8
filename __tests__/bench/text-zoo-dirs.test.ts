import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zooDirs, zooName } from '../../bench/text/zoo.js';

// The held-out corpus's zoo must never be read as part of the man-page zoo (nor the other way round): the
// man-page zoo's folders are text-zoo and text-zoo-*, the Debian one's text-debian-zoo and text-debian-zoo-*.
describe('text zoo folders per corpus', () => {
  let cache: string;
  beforeAll(() => {
    cache = mkdtempSync(path.join(os.tmpdir(), 'text-zoo-dirs-'));
    for (const d of ['text-zoo-cnn', 'text-zoo-bag', 'text-debian-zoo-cnn', 'text-eval', 'text-debian-zoo'])
      mkdirSync(path.join(cache, d));
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it('names the main folder by corpus', () => {
    expect(zooName('man')).toBe('text-zoo');
    expect(zooName('debian')).toBe('text-debian-zoo');
  });

  it('lists the man-page zoo without the held-out one', () => {
    expect(zooDirs('man', cache).map((d) => path.basename(d))).toEqual([
      'text-zoo',
      'text-zoo-bag',
      'text-zoo-cnn',
    ]);
  });

  it('lists the held-out zoo without the man-page one', () => {
    expect(zooDirs('debian', cache).map((d) => path.basename(d))).toEqual([
      'text-debian-zoo',
      'text-debian-zoo-cnn',
    ]);
  });
});
