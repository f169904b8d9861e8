// ts-jest in ESM mode, as in the actions/typescript-action template.
export default {
  // Shares the main realm's typed arrays so real onnxruntime-node works in every test file (see the file).
  testEnvironment: './__tests__/model/ort-environment.js',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: ['TS151001'] } },
    ],
  },
  testMatch: ['**/__tests__/**/*.test.ts'],
  // Generous: CI shares 2 cores; a hang still fails.
  testTimeout: 180000,
  maxWorkers: 2,
};
