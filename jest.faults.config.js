/**
 * The fault-injection suite (npm run test:faults): real gateway processes, real Redis and the
 * simulators, several hundred cases per scenario. Same transform and global setup as jest.config.js,
 * only test/faults, one scenario at a time (each starts its own Redis and gateway processes).
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 240000,
  maxWorkers: 1,
};
