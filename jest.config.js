/** Unit and integration tests; the UI tests (Galata) live in ui-tests/ with their own runner. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/server/src', '<rootDir>/kernel/src', '<rootDir>/extension/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: {
          isolatedModules: true,
          module: 'commonjs',
          target: 'ES2022',
          esModuleInterop: true,
          resolveJsonModule: true,
        },
      },
    ],
  },
  moduleNameMapper: { '^@stratum/proto$': '<rootDir>/proto/src/index.ts' },
  testTimeout: 120000,
};
