// n8n's own lint rules for community nodes, in the variant without n8n Cloud support: the design card asks for
// @azure/msal-node at runtime (its per-process token cache and certificate credentials), and n8n Cloud accepts no
// runtime dependencies. Every other rule of the set still applies.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{
		files: ['package.json'],
		rules: {
			// Off for the one dependency the design card requires (@azure/msal-node); the README says why.
			// test/unit/pack.test.ts keeps that list at exactly this one package.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
];
