import type { INodeProperties, INodeTypeDescription } from 'n8n-workflow';

import { MicrosoftGraphPresence } from '../../nodes/MicrosoftGraphPresence/MicrosoftGraphPresence.node';
import { MicrosoftGraphPresenceInstantTrigger } from '../../nodes/MicrosoftGraphPresenceInstantTrigger/MicrosoftGraphPresenceInstantTrigger.node';
import { MicrosoftGraphPresenceTrigger } from '../../nodes/MicrosoftGraphPresenceTrigger/MicrosoftGraphPresenceTrigger.node';
import {
	readTemplate,
	templateFileNames,
	TEMPLATE_FILES,
	type TemplateFile,
} from '../e2e/fixtures/templates';

/**
 * The ready-made workflows users import (workflows/*.json): well-formed, made of node types and versions that exist
 * (ours from the node classes; n8n's own from the list below, which both n8n lines of the e2e suite know, and
 * where the e2e imports and runs every template), with parameters our nodes have, and no secret in them.
 */

const PACKAGE = 'n8n-nodes-msgraph-presence';
const ours: INodeTypeDescription[] = [
	new MicrosoftGraphPresence().description,
	new MicrosoftGraphPresenceTrigger().description,
	new MicrosoftGraphPresenceInstantTrigger().description,
];

/**
 * n8n's own nodes the templates may use, with the versions present in both 2.41.1 and 1.123.81
 * (n8n-nodes-base/dist/types/nodes.json of each; the e2e checks the installed lines again).
 */
const N8N_NODES: Record<string, number[]> = {
	'n8n-nodes-base.manualTrigger': [1],
	'n8n-nodes-base.scheduleTrigger': [1, 1.1, 1.2, 1.3],
	'n8n-nodes-base.webhook': [1, 1.1, 2, 2.1],
	'n8n-nodes-base.respondToWebhook': [1, 1.1, 1.2, 1.3, 1.4, 1.5],
	'n8n-nodes-base.code': [1, 2],
	'n8n-nodes-base.if': [1, 2, 2.1, 2.2, 2.3],
	'n8n-nodes-base.emailSend': [1, 2, 2.1],
	'n8n-nodes-base.slack': [2, 2.1, 2.2, 2.3, 2.4],
	'n8n-nodes-base.httpRequest': [3, 4, 4.1, 4.2, 4.3],
	'n8n-nodes-base.stickyNote': [1],
};

function versionsOf(description: INodeTypeDescription): number[] {
	return Array.isArray(description.version) ? description.version : [description.version];
}

/** Every string in the file, with the path to it. */
function strings(value: unknown, path = ''): Array<[string, string]> {
	if (typeof value === 'string') return [[path, value]];
	if (Array.isArray(value))
		return value.flatMap((entry, index) => strings(entry, `${path}[${index}]`));
	if (typeof value === 'object' && value !== null)
		return Object.entries(value).flatMap(([key, entry]) => strings(entry, `${path}.${key}`));
	return [];
}

/** Keys whose non-empty value would be a secret pasted into a workflow. */
const SECRET_KEYS =
	/(secret|password|passwd|token|apikey|api_key|privatekey|authorization|cookie)/i;
/** Values that look like credentials, whatever key holds them. */
const SECRET_VALUES: Array<[string, RegExp]> = [
	['Slack token', /\bxox[abposr]-[0-9A-Za-z-]{8,}/],
	['bearer token', /\bBearer\s+[0-9A-Za-z._~+/-]{16,}/i],
	['JSON web token', /\beyJ[0-9A-Za-z_-]{10,}\.[0-9A-Za-z_-]{10,}\./],
	['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
	['Entra client secret', /\b[0-9A-Za-z_~.-]{3}8Q~[0-9A-Za-z_~.-]{30,}/],
	['Slack webhook URL', /hooks\.slack\.com\/services\/T[0-9A-Z]+\/B[0-9A-Z]+\/[0-9A-Za-z]+/],
	['URL with user and password', /\/\/[^/\s:@]+:[^/\s@]+@/],
];

describe.each(templateFileNames())('workflows/%s', (file) => {
	let template: TemplateFile;
	beforeAll(() => {
		template = readTemplate(file);
	});

	it('is a workflow n8n can import: named, nodes with unique ids and names, connections between them', () => {
		expect(typeof template.name).toBe('string');
		expect(Array.isArray(template.nodes)).toBe(true);
		const names = template.nodes.map((node) => node.name);
		expect(new Set(names).size).toBe(names.length);
		const ids = template.nodes.map((node) => node.id);
		expect(new Set(ids).size).toBe(ids.length);
		for (const node of template.nodes) {
			expect(node.position).toHaveLength(2);
			expect(typeof node.parameters).toBe('object');
		}
		for (const [from, outputs] of Object.entries(template.connections)) {
			expect(names).toContain(from);
			for (const branch of (outputs as { main: Array<Array<{ node: string }>> }).main)
				for (const target of branch) expect(names).toContain(target.node);
		}
		// Nothing run-specific: no pinned data, no static data, not active.
		expect(template.pinData ?? {}).toEqual({});
		expect(template.staticData ?? null).toBeNull();
		expect(template.active ?? false).toBe(false);
		expect(template.settings).toEqual({ executionOrder: 'v1' });
	});

	it('uses only node types and versions that exist', () => {
		for (const node of template.nodes) {
			if (node.type.startsWith(`${PACKAGE}.`)) {
				const description = ours.find((d) => `${PACKAGE}.${d.name}` === node.type);
				expect({ node: node.name, known: description !== undefined }).toEqual({
					node: node.name,
					known: true,
				});
				expect(versionsOf(description!)).toContain(node.typeVersion);
			} else {
				expect({ node: node.name, type: node.type, known: node.type in N8N_NODES }).toEqual({
					node: node.name,
					type: node.type,
					known: true,
				});
				expect(N8N_NODES[node.type]).toContain(node.typeVersion);
			}
		}
	});

	it('gives our nodes only parameters they have, with user details on', () => {
		const ourNodes = template.nodes.filter((node) => node.type.startsWith(`${PACKAGE}.`));
		expect(ourNodes.length).toBeGreaterThan(0);
		for (const node of ourNodes) {
			const description = ours.find((d) => `${PACKAGE}.${d.name}` === node.type)!;
			const properties = description.properties;
			const known = new Set(properties.map((property) => property.name));
			// n8n adds the polling schedule to every polling node.
			if (description.polling) known.add('pollTimes');
			for (const name of Object.keys(node.parameters))
				expect([node.name, name, known.has(name)]).toEqual([node.name, name, true]);
			const options = properties.find((property) => property.name === 'options') as
				| (INodeProperties & { options: INodeProperties[] })
				| undefined;
			const optionNames = new Set((options?.options ?? []).map((option) => option.name));
			const given = (node.parameters.options ?? {}) as Record<string, unknown>;
			for (const name of Object.keys(given))
				expect([node.name, name, optionNames.has(name)]).toEqual([node.name, name, true]);
			expect(given.includeUserDetails).toBe(true);
			// Group placeholders, documented in the README: the user writes their group's name or id.
			expect(node.parameters.usersFrom).toBe('group');
			expect(['Support Team', 'Support Agents']).toContain(node.parameters.group);
		}
	});

	it('holds no secret: credentials are placeholders, no secret-like value anywhere', () => {
		for (const node of template.nodes)
			for (const [type, reference] of Object.entries(node.credentials ?? {}))
				expect([node.name, type, reference.id]).toEqual([node.name, type, 'REPLACE_ME']);
		const found: string[] = [];
		for (const [path, value] of strings(template)) {
			const key = path.slice(path.lastIndexOf('.') + 1);
			if (SECRET_KEYS.test(key) && value.trim() !== '')
				found.push(`${path}: a value under "${key}"`);
			for (const [what, pattern] of SECRET_VALUES)
				if (pattern.test(value)) found.push(`${path}: ${what}`);
			// Object ids of a real tenant (groups, users, the tenant itself) do not belong in a template; webhook ids do.
			if (
				key !== 'webhookId' &&
				/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(value)
			)
				found.push(`${path}: a GUID`);
			for (const address of value.match(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g) ?? [])
				if (!/@(example\.(com|org|net)|contoso\.com)$/i.test(address))
					found.push(`${path}: address ${address}`);
		}
		expect(found).toEqual([]);
	});
});

describe('the secret scan itself', () => {
	it('finds what it looks for', () => {
		const hits = (text: string) =>
			SECRET_VALUES.filter(([, pattern]) => pattern.test(text)).map(([what]) => what);
		expect(hits('xoxb-1234567890-abcdefghij')).toEqual(['Slack token']);
		expect(hits('Authorization: Bearer abcdefghijklmnopqrstuvwxyz')).toEqual(['bearer token']);
		expect(hits('-----BEGIN RSA PRIVATE KEY-----')).toEqual(['private key']);
		expect(hits('abc8Q~abcdefghijklmnopqrstuvwxyz0123456789')).toEqual(['Entra client secret']);
		expect(hits('https://user:pass@host/x')).toEqual(['URL with user and password']);
		expect(hits('Jane Doe is now Available')).toEqual([]);
	});
});

describe('workflows/', () => {
	it('ships the four templates the README documents, and nothing else', () => {
		expect(templateFileNames()).toEqual(Object.values(TEMPLATE_FILES).sort());
	});
});
