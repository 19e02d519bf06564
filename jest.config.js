/**
 * Unit tests of the product's pure modules (test/unit), self-tests of the Graph emulator and the n8n-core harness
 * (test/selftest), engine tests (workflow JSON through n8n-core against the emulator, test/engine).
 */
module.exports = {
	testEnvironment: 'node',
	testMatch: ['<rootDir>/test/**/*.test.ts'],
	testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.e2e\\.test\\.ts$'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
	},
	testTimeout: 120000,
};
