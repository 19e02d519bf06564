/** End-to-end: the packed tarball in a real n8n from npm (CLI runs, `n8n start`, the editor in Chromium). */
module.exports = {
	testEnvironment: 'node',
	testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
	testTimeout: 900000,
	maxWorkers: 1,
};
