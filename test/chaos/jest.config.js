/**
 * The chaos suite (npm run test:chaos): `jest -c test/chaos/jest.config.js`. Sizes: CHAOS_IDS, CHAOS_BIG.
 * Its files end in `.chaos.ts`, not `.test.ts`, so the default config (npm test) does not pick them up.
 */
module.exports = {
	rootDir: '../..',
	testEnvironment: 'node',
	testMatch: ['<rootDir>/test/chaos/**/*.chaos.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
	},
	testTimeout: 600000,
};
