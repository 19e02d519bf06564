/**
 * The credentials side of n8n's CLI (`packages/cli/src/credentials-helper.ts`), rebuilt on an in-memory store.
 * Stored data goes through the same steps n8n applies before a node sees it (pinned OAuth fields, overwrites,
 * type defaults, expressions such as `={{$self.cloud}}`). Authentication, pre-authentication and OAuth token
 * updates behave as in n8n, so n8n-core's request helpers run their real code paths against it.
 */
// The environment module must load before n8n-core: keep this import first.
import './environment';

import { getAdditionalKeys } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialsEncrypted,
	ICredentialsExpressionResolveValues,
	IDataObject,
	IExecuteData,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeParameters,
	INodeProperties,
	INodeType,
	INodeTypes,
	IRequestOptionsSimplified,
	IWorkflowDataProxyAdditionalKeys,
	IWorkflowExecuteAdditionalData,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import {
	ICredentials,
	ICredentialsHelper,
	NodeHelpers,
	UnexpectedError,
	UserError,
	Workflow,
	deepCopy,
	getCredentialOwnRequestAllowedDomains,
	isExpression,
} from 'n8n-workflow';

import type { CredentialTypeRegistry } from './credential-types';

/** A credential as a test provides it: the plain data a user would have saved in n8n. */
export interface HarnessCredential {
	type: string;
	name?: string;
	data: ICredentialDataDecryptedObject;
}

/** One write n8n would have made to its credentials table during the run. */
export interface CredentialUpdate {
	id: string;
	type: string;
	/** `oauthTokenData`: n8n-core stored a new OAuth2 token; `data`: a pre-authentication result was saved. */
	kind: 'oauthTokenData' | 'data';
}

export interface CredentialsHelperOptions {
	/**
	 * n8n's credential overwrites (`CREDENTIALS_OVERWRITE_DATA`), by credential type name. As in n8n, a value is
	 * only used where the stored credential has none, and a parent type's overwrites apply to its children.
	 */
	overwrites?: Record<string, ICredentialDataDecryptedObject>;
	/**
	 * Recent n8n versions drop stored values of these OAuth fields when the credential type declares them as
	 * `hidden`, so the type's own default (or an overwrite) always wins. Default `true`.
	 */
	pinHiddenOAuthFields?: boolean;
}

/** OAuth endpoint and flow fields n8n lets a credential type own when it declares them hidden. */
const OAUTH_PINNED_FIELDS = [
	'authUrl',
	'accessTokenUrl',
	'grantType',
	'authentication',
	'requestTokenUrl',
	'signatureMethod',
] as const;

interface StoredCredential {
	id: string;
	name: string;
	type: string;
	/** Serialised data, as n8n keeps it (encrypted) in its database. */
	data: string;
}

/**
 * n8n-core's `Credentials` encrypts through a key provider that n8n's CLI wires to its database; the harness
 * keeps the same interface over JSON text, which still catches data that would not survive being stored.
 */
class StoredCredentials extends ICredentials<ICredentialDataDecryptedObject> {
	async setData(data: ICredentialDataDecryptedObject): Promise<void> {
		this.data = JSON.stringify(data);
	}

	async updateData(
		toUpdate: Partial<ICredentialDataDecryptedObject>,
		toDelete: Array<keyof ICredentialDataDecryptedObject> = [],
	): Promise<void> {
		const updated: ICredentialDataDecryptedObject = { ...(await this.getData()) };
		for (const [key, value] of Object.entries(toUpdate)) {
			if (value !== undefined) updated[key] = value;
		}
		for (const key of toDelete) delete updated[key];
		await this.setData(updated);
	}

	async getData(): Promise<ICredentialDataDecryptedObject> {
		if (this.data === undefined) throw new UnexpectedError(`Credential "${this.name}" has no data`);
		const parsed: unknown = JSON.parse(this.data);
		if (!isDataObject(parsed))
			throw new UnexpectedError(`Credential "${this.name}" does not hold an object`);
		return parsed as ICredentialDataDecryptedObject;
	}

	getDataToSave(): ICredentialsEncrypted {
		return { id: this.id, name: this.name, type: this.type, data: this.data };
	}
}

const mockNode: INode = {
	id: 'harness-credential-expression-node',
	name: '',
	typeVersion: 1,
	type: 'mock',
	position: [0, 0],
	parameters: {},
};

const mockNodeType: INodeType = {
	description: {
		displayName: 'Mock',
		name: 'mock',
		group: ['transform'],
		version: 1,
		description: 'Stands in for a node when credential expressions are resolved outside a node',
		defaults: { name: 'Mock' },
		inputs: [],
		outputs: [],
		properties: [],
	},
};

const mockNodeTypes: INodeTypes = {
	getByName: () => mockNodeType,
	getByNameAndVersion: () => mockNodeType,
	getKnownTypes: () => ({}),
};

/** Limits a credential's `preAuthentication` requests to its own allowed domains, as n8n does. */
function restrictToCredentialDomains(
	helpers: IHttpRequestHelper,
	credentials: ICredentialDataDecryptedObject,
): IHttpRequestHelper {
	return {
		helpers: {
			httpRequest: async (requestOptions: IHttpRequestOptions): Promise<unknown> => {
				const allowedDomains = getCredentialOwnRequestAllowedDomains(credentials);
				if (allowedDomains === undefined) return await helpers.helpers.httpRequest(requestOptions);
				if (requestOptions.allowedDomains !== undefined) {
					throw new UserError(
						'This credential restricts requests to specific domains, which cannot be combined with the domains its authentication step asks for.',
					);
				}
				return await helpers.helpers.httpRequest({ ...requestOptions, allowedDomains });
			},
		},
	};
}

function isEmptyValue(value: unknown): boolean {
	return value === null || value === undefined || value === '';
}

function isDataObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class HarnessCredentialsHelper extends ICredentialsHelper {
	private readonly store = new Map<string, StoredCredential>();

	private readonly updateLog: CredentialUpdate[] = [];

	private constructor(
		private readonly credentialTypes: CredentialTypeRegistry,
		private readonly options: CredentialsHelperOptions,
	) {
		super();
	}

	/** Encrypts the given credentials into a fresh store. The caller's objects are never modified. */
	static async create(
		credentialTypes: CredentialTypeRegistry,
		credentials: Record<string, HarnessCredential>,
		options: CredentialsHelperOptions = {},
	): Promise<HarnessCredentialsHelper> {
		const helper = new HarnessCredentialsHelper(credentialTypes, options);
		for (const [id, credential] of Object.entries(credentials)) {
			credentialTypes.getByName(credential.type);
			const name = credential.name ?? `${credential.type} ${id}`;
			const stored = new StoredCredentials({ id, name }, credential.type);
			await stored.setData(deepCopy(credential.data));
			helper.store.set(id, {
				id,
				name,
				type: credential.type,
				data: stored.getDataToSave().data ?? '',
			});
		}
		return helper;
	}

	/** Every write to the store during the run, in order. */
	get updates(): readonly CredentialUpdate[] {
		return this.updateLog;
	}

	/** The store decrypted again, shaped like the `credentials` a test passed in. */
	async snapshot(): Promise<Record<string, HarnessCredential>> {
		const out: Record<string, HarnessCredential> = {};
		for (const row of this.store.values()) {
			out[row.id] = { type: row.type, name: row.name, data: await this.load(row).getData() };
		}
		return out;
	}

	private load(row: StoredCredential): StoredCredentials {
		return new StoredCredentials({ id: row.id, name: row.name }, row.type, row.data);
	}

	private find(nodeCredentials: INodeCredentialsDetails, type: string): StoredCredential {
		if (!nodeCredentials.id) {
			throw new UnexpectedError(
				`Credential "${nodeCredentials.name}" of type "${type}" has no ID: give the node's credentials an id that is a key of runWorkflow({ credentials })`,
			);
		}
		const row = this.store.get(nodeCredentials.id);
		if (row === undefined || row.type !== type) {
			throw new UserError(
				`Credential with ID "${nodeCredentials.id}" does not exist for type "${type}".`,
			);
		}
		return row;
	}

	private save(
		row: StoredCredential,
		credentials: StoredCredentials,
		kind: CredentialUpdate['kind'],
	): void {
		row.data = credentials.getDataToSave().data ?? '';
		this.updateLog.push({ id: row.id, type: row.type, kind });
	}

	getParentTypes(name: string): string[] {
		return this.credentialTypes.getParentTypes(name);
	}

	isCredentialUsableByNode(credentialType: string, nodeType: string): boolean {
		if (!this.credentialTypes.recognizes(credentialType)) return true;
		const type = this.credentialTypes.getByName(credentialType);
		if (type.restrictToSupportedNodes !== true) return true;
		return this.credentialTypes.supportsNode(credentialType, nodeType);
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		incomingRequestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		// n8n treats both request shapes alike here; the simplified one only lacks `url`.
		const requestOptions = incomingRequestOptions as IHttpRequestOptions;
		const { authenticate } = this.credentialTypes.getByName(typeName);
		if (authenticate === undefined) return requestOptions;
		if (typeof authenticate === 'function') return await authenticate(credentials, requestOptions);
		if (authenticate.type !== 'generic') return requestOptions;
		if (workflow === undefined || node === undefined) {
			throw new UnexpectedError(
				'Workflow and node are required for declarative credential authentication',
			);
		}
		requestOptions.headers ??= {};
		const target = requestOptions as unknown as Record<string, Record<string, unknown> | undefined>;
		for (const [outerKey, outerValue] of Object.entries(authenticate.properties)) {
			if (!isDataObject(outerValue)) continue;
			for (const [key, value] of Object.entries(outerValue)) {
				const keyResolved = this.resolveValue(key, { $credentials: credentials }, workflow, node);
				const valueResolved = this.resolveValue(
					value,
					{ $credentials: credentials },
					workflow,
					node,
				);
				const section = (target[outerKey] ??= {});
				section[keyResolved] = valueResolved;
			}
		}
		return requestOptions;
	}

	private resolveValue(
		parameterValue: unknown,
		additionalKeys: IWorkflowDataProxyAdditionalKeys,
		workflow: Workflow,
		node: INode,
	): string {
		if (typeof parameterValue !== 'string') return String(parameterValue);
		if (!isExpression(parameterValue)) return parameterValue;
		const resolved = workflow.expression.getSimpleParameterValue(
			node,
			parameterValue,
			'internal',
			additionalKeys,
			undefined,
			'',
		);
		if (!resolved) return '';
		return resolved.toString();
	}

	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.credentialTypes.getByName(typeName);
		const expirableProperty = credentialType.properties.find(
			(property) => property.type === 'hidden' && property.typeOptions?.expirable === true,
		);
		if (expirableProperty?.name === undefined) return undefined;
		if (typeof credentialType.preAuthentication !== 'function') return undefined;
		if (credentials[expirableProperty.name] !== '' && !credentialsExpired) return undefined;

		const output = await credentialType.preAuthentication.call(
			restrictToCredentialDomains(helpers, credentials),
			credentials,
		);
		// Without the expirable property in the result n8n does not store anything.
		if (output[expirableProperty.name] === undefined) return undefined;
		const nodeCredentials = node.credentials?.[credentialType.name];
		if (nodeCredentials === undefined) return undefined;

		// Persist the new token, but never replace a value the user stored as an expression.
		const row = this.find(nodeCredentials, credentialType.name);
		const stored = this.load(row);
		const storedData = await stored.getData();
		const dataToPersist: ICredentialDataDecryptedObject = { ...storedData };
		for (const [key, value] of Object.entries(output as ICredentialDataDecryptedObject)) {
			if (key === expirableProperty.name || !isExpression(storedData[key]))
				dataToPersist[key] = value;
		}
		await this.updateCredentials(nodeCredentials, credentialType.name, dataToPersist);
		return Object.assign(credentials, output as ICredentialDataDecryptedObject);
	}

	async runPreAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.credentialTypes.getByName(typeName);
		if (typeof credentialType.preAuthentication !== 'function') return undefined;
		const output = await credentialType.preAuthentication.call(
			restrictToCredentialDomains(helpers, credentials),
			credentials,
		);
		return output as ICredentialDataDecryptedObject;
	}

	async getCredentials(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentials> {
		return this.load(this.find(nodeCredentials, type));
	}

	async getDecrypted(
		additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		raw?: boolean,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		const decryptedDataOriginal = await this.load(this.find(nodeCredentials, type)).getData();
		if (raw === true) return decryptedDataOriginal;
		return await this.applyDefaultsAndOverwrites(
			additionalData,
			decryptedDataOriginal,
			type,
			mode,
			executeData,
			expressionResolveValues,
		);
	}

	/** The overwrites for a type: its ancestors' first, its own last (so its own win). */
	private overwritesFor(type: string): ICredentialDataDecryptedObject | undefined {
		const all = this.options.overwrites;
		if (all === undefined) return undefined;
		const chain = [...this.getParentTypes(type)].reverse().concat(type);
		const merged: ICredentialDataDecryptedObject = {};
		let found = false;
		for (const name of chain) {
			const own = all[name];
			if (own === undefined) continue;
			Object.assign(merged, own);
			found = true;
		}
		return found ? merged : undefined;
	}

	async applyDefaultsAndOverwrites(
		additionalData: IWorkflowExecuteAdditionalData,
		decryptedDataOriginal: ICredentialDataDecryptedObject,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		const credentialsProperties = this.getCredentialsProperties(type);

		const storedData: ICredentialDataDecryptedObject = { ...decryptedDataOriginal };
		if (this.options.pinHiddenOAuthFields !== false) {
			for (const field of OAUTH_PINNED_FIELDS) {
				if (credentialsProperties.some((p) => p.name === field && p.type === 'hidden'))
					delete storedData[field];
			}
		}

		const overwrites = this.overwritesFor(type);
		if (overwrites !== undefined) {
			for (const [key, value] of Object.entries(overwrites)) {
				if (isEmptyValue(storedData[key])) storedData[key] = value;
			}
		}

		const withDefaults = NodeHelpers.getNodeParameters(
			credentialsProperties,
			storedData as INodeParameters,
			true,
			false,
			null,
			null,
		);
		let decryptedData = (withDefaults ?? {}) as ICredentialDataDecryptedObject;

		// Not declared as a property, so getNodeParameters dropped these.
		for (const key of ['oauthTokenData', 'allowedHttpRequestDomains', 'allowedDomains']) {
			const original = decryptedDataOriginal[key];
			if (decryptedData[key] === undefined && original !== undefined) decryptedData[key] = original;
		}

		const additionalKeys = getAdditionalKeys(additionalData, mode, null, { isCredential: true });

		if (expressionResolveValues) {
			try {
				decryptedData = expressionResolveValues.workflow.expression.getParameterValue(
					decryptedData as INodeParameters,
					expressionResolveValues.runExecutionData,
					expressionResolveValues.runIndex,
					expressionResolveValues.itemIndex,
					expressionResolveValues.node.name,
					expressionResolveValues.connectionInputData,
					mode,
					additionalKeys,
					executeData,
					false,
					decryptedData,
				) as ICredentialDataDecryptedObject;
			} catch (error) {
				if (error instanceof Error) error.message += ' [Error resolving credentials]';
				// Rethrown unchanged, as n8n does: the engine reports it against the node.
				// eslint-disable-next-line @n8n/community-nodes/require-node-api-error
				throw error;
			}
		} else {
			const workflow = new Workflow({
				nodes: [mockNode],
				connections: {},
				active: false,
				nodeTypes: mockNodeTypes,
			});
			const acquired = await workflow.expression.acquireIsolate();
			try {
				decryptedData = workflow.expression.getComplexParameterValue(
					mockNode,
					decryptedData as INodeParameters,
					mode,
					additionalKeys,
					undefined,
					undefined,
					decryptedData,
				) as ICredentialDataDecryptedObject;
			} finally {
				if (acquired) await workflow.expression.releaseIsolate();
			}
		}
		return decryptedData;
	}

	async updateCredentials(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		const row = this.find(nodeCredentials, type);
		const credentials = this.load(row);
		await credentials.setData(data);
		this.save(row, credentials, 'data');
	}

	async updateCredentialsOauthTokenData(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		const row = this.find(nodeCredentials, type);
		const credentials = this.load(row);
		await credentials.updateData({ oauthTokenData: data.oauthTokenData });
		this.save(row, credentials, 'oauthTokenData');
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		const credentialType = this.credentialTypes.getByName(type);
		if (credentialType.extends === undefined) {
			// n8n adds the field that holds access and refresh tokens to the two OAuth base types.
			if (type === 'oAuth1Api' || type === 'oAuth2Api') {
				return [
					...credentialType.properties,
					{
						displayName: 'oauthTokenData',
						name: 'oauthTokenData',
						type: 'json',
						required: false,
						default: {},
					},
				];
			}
			return credentialType.properties;
		}
		const combined: INodeProperties[] = [];
		for (const parent of credentialType.extends) {
			NodeHelpers.mergeNodeProperties(combined, this.getCredentialsProperties(parent));
		}
		NodeHelpers.mergeNodeProperties(combined, credentialType.properties);
		return combined;
	}
}
