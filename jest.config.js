// ts-jest in ESM mode, as in the actions/typescript-action template.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: ['TS151001'] } }] },
  testMatch: ['**/__tests__/**/*.test.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
