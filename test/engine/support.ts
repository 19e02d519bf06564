import type { INode } from 'n8n-workflow';

import { GraphEmulator, type ThrottleConfig } from '../emulator';
import { loadBuiltPackage } from '../shared/builtPackage';
import {
	appCertificateData,
	appSecretData,
	delegatedData,
	registerApp,
	type TestApp,
} from '../shared/graphApp';
import {
	HARNESS_ITEMS_TYPE,
	MANUAL_TRIGGER_TYPE,
	runWorkflow,
	type HarnessCredential,
	type HarnessWorkflow,
} from '../harness';

const {
	MicrosoftGraphPresence,
	MicrosoftGraphPresenceTrigger,
	MicrosoftGraphPresenceInstantTrigger,
	MicrosoftGraphPresenceOAuth2Api,
	MicrosoftGraphPresenceAppApi,
} = loadBuiltPackage();

export const PRESENCE_TYPE = 'n8n-nodes-msgraph-presence.microsoftGraphPresence';
export const nodeTypes = { [PRESENCE_TYPE]: new MicrosoftGraphPresence() };
export const TRIGGER_TYPE = 'n8n-nodes-msgraph-presence.microsoftGraphPresenceTrigger';
export const triggerNodeTypes = { [TRIGGER_TYPE]: new MicrosoftGraphPresenceTrigger() };
export const INSTANT_TYPE = 'n8n-nodes-msgraph-presence.microsoftGraphPresenceInstantTrigger';
export const instantNodeTypes = { [INSTANT_TYPE]: new MicrosoftGraphPresenceInstantTrigger() };
export const credentialTypes = [
	new MicrosoftGraphPresenceOAuth2Api(),
	new MicrosoftGraphPresenceAppApi(),
];

export { TENANT, registerApp, secretsOf, findSecrets, type TestApp } from '../shared/graphApp';

export function appSecretCredential(emu: GraphEmulator, app: TestApp): HarnessCredential {
	return {
		type: 'microsoftGraphPresenceAppApi',
		name: 'Graph app (secret)',
		data: appSecretData(emu, app),
	};
}

export function appCertificateCredential(
	emu: GraphEmulator,
	app: TestApp,
	thumbprint: 'sha256' | 'sha1' = 'sha256',
): HarnessCredential {
	return {
		type: 'microsoftGraphPresenceAppApi',
		name: 'Graph app (certificate)',
		data: appCertificateData(emu, app, thumbprint),
	};
}

export async function delegatedCredential(
	emu: GraphEmulator,
	app: TestApp,
): Promise<HarnessCredential> {
	return {
		type: 'microsoftGraphPresenceOAuth2Api',
		name: 'Graph (delegated)',
		data: await delegatedData(emu, app),
	};
}

export interface EmulatorFixtureOptions {
	seed: number;
	users: number;
	/** Each test file registers its own app, so that no file's requests count against another's throttle. */
	clientId: string;
	/** Credentials made for the app, under these names: the client secret, or a user signed in (delegated). */
	credentials?: Array<'app' | 'delegated'>;
	/** Graph's throttle, set again before every test (tests that tighten it leave it so). */
	throttle?: ThrottleConfig;
}

export interface StartedEmulator {
	emu: GraphEmulator;
	app: TestApp;
	credentials: Record<string, HarnessCredential>;
}

/**
 * The Graph emulator for one engine test file: started with the app registered and the credentials made before
 * the file's tests, stopped after them, and before every test its log cleared and its faults (and throttle, if
 * given) reset, so that no test sees what another left. `started` receives the emulator, app and credentials.
 * Jest runs hooks in the order they are declared: an `afterAll` the file declares before this call runs first.
 */
export function useEmulator(
	options: EmulatorFixtureOptions,
	started: (value: StartedEmulator) => void,
): void {
	let emu: GraphEmulator | undefined;
	beforeAll(async () => {
		const emulator = await GraphEmulator.start({ seed: options.seed });
		emu = emulator;
		emulator.addUsers(options.users);
		const app = await registerApp(emulator, options.clientId);
		const credentials: Record<string, HarnessCredential> = {};
		for (const name of options.credentials ?? [])
			credentials[name] =
				name === 'app'
					? appSecretCredential(emulator, app)
					: await delegatedCredential(emulator, app);
		started({ emu: emulator, app, credentials });
	});
	afterAll(async () => await emu?.stop());
	beforeEach(() => {
		if (emu === undefined) throw new Error('the emulator did not start');
		emu.clearLog();
		emu.faults = {};
		if (options.throttle) emu.throttle = { ...options.throttle };
	});
}

export interface PresenceWorkflowOptions {
	/** One input item per entry. */
	items: Array<Record<string, unknown>>;
	parameters: Record<string, unknown>;
	authentication: 'oAuth2' | 'application';
	credentialId: string;
	continueOnFail?: boolean;
}

/** Manual trigger → items → Microsoft Graph Presence, as a user would wire it. */
export function presenceWorkflow(options: PresenceWorkflowOptions): HarnessWorkflow {
	const credentialType =
		options.authentication === 'application'
			? 'microsoftGraphPresenceAppApi'
			: 'microsoftGraphPresenceOAuth2Api';
	const nodes: INode[] = [
		{
			id: 'n1',
			name: 'Start',
			type: MANUAL_TRIGGER_TYPE,
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			id: 'n2',
			name: 'Items',
			type: HARNESS_ITEMS_TYPE,
			typeVersion: 1,
			position: [200, 0],
			parameters: { items: JSON.stringify(options.items) },
		},
		{
			id: 'n3',
			name: 'Presence',
			type: PRESENCE_TYPE,
			typeVersion: 1,
			position: [400, 0],
			parameters: { authentication: options.authentication, ...options.parameters },
			credentials: { [credentialType]: { id: options.credentialId, name: 'Graph' } },
			...(options.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		},
	];
	return {
		nodes,
		connections: {
			Start: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: { main: [[{ node: 'Presence', type: 'main', index: 0 }]] },
		},
	};
}

export interface PresenceRunOptions extends PresenceWorkflowOptions {
	credentials: Record<string, HarnessCredential>;
	/** Aborting it cancels the execution. */
	signal?: AbortSignal;
}

/** `presenceWorkflow` run through n8n's engine with the built package. */
export function runPresence({ credentials, signal, ...workflow }: PresenceRunOptions) {
	return runWorkflow({
		workflow: presenceWorkflow(workflow),
		nodeTypes,
		credentialTypes,
		credentials,
		signal,
	});
}
