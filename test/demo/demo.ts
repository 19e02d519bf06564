/**
 * `npm run demo`: a real n8n on localhost with this package installed from its tarball, credentials and sample
 * workflows ready, against the project's Graph emulator (a few thousand users whose presence changes over time)
 * or, with GRAPH_TENANT_ID / GRAPH_CLIENT_ID / GRAPH_CLIENT_SECRET set, against a real tenant.
 * Two of the ready-made workflows (workflows/: the presence board and ticket routing) are imported and active; the
 * demo prints the board's URL.
 * `npm run demo -- --check` runs the sample workflow, checks what it printed, starts n8n, signs in, fetches the
 * board (an HTML page with a tile per member of the group), and exits.
 * Before anything slow it checks that its ports are free, and after starting n8n that the n8n answering is its own:
 * either problem ends the demo with one line saying what is wrong and the way out (./ports.ts).
 */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { GraphEmulator } from '../emulator';
import {
	createUserFolder,
	ensureN8n,
	N8N_LINES,
	packPackage,
	removeUserFolder,
	setupOwner,
	startN8n,
	type N8nInstall,
	type RunningN8n,
} from '../e2e/lib/n8n';
import { N8nCliSession } from '../e2e/fixtures/n8nSession';
import { appSecretData, delegatedData, registerApp } from '../shared/graphApp';
import { firstFreePort, portProblem } from '../shared/ports';
import {
	alternativePorts,
	demoPorts,
	listensLine,
	n8nNotUpMessage,
	ownN8nProblem,
	portsTakenMessage,
	type PortPlan,
	type TakenPort,
} from './ports';
import { meAndColleagueWorkflow, teamAvailabilityWorkflow } from './workflows';
import { importableTemplate, type CredentialChoice } from '../e2e/fixtures/templates';

const check = process.argv.includes('--check');
const owner = {
	email: process.env.DEMO_EMAIL ?? 'demo@example.com',
	password: process.env.DEMO_PASSWORD ?? 'Presence-Demo-1',
};
const realTenant =
	process.env.GRAPH_TENANT_ID && process.env.GRAPH_CLIENT_ID && process.env.GRAPH_CLIENT_SECRET;

const APP_CREDENTIAL = { id: 'DemoGraphApp0001', name: 'Microsoft Graph (application)' };
const DELEGATED_CREDENTIAL = {
	id: 'DemoGraphUser001',
	name: 'Microsoft Graph (delegated, emulator)',
};
const TEAM_WORKFLOW = 'DemoTeamPresence';
const ME_WORKFLOW = 'DemoMeColleague1';
/** The ready-made workflows (workflows/*.json) the demo imports and activates: they need no account but Graph's. */
const BOARD_WORKFLOW = 'DemoPresenceBoard';
const ROUTE_WORKFLOW = 'DemoRouteTicket1';
const BOARD_PATH = 'presence-board';
const ROUTE_PATH = 'route-ticket';

function say(line: string): void {
	process.stdout.write(`${line}\n`);
}

/** A problem the demo explains in its message: printed as it is, without a stack trace. */
class DemoStop extends Error {}

type Ports = Extract<PortPlan, { ok: true }>;

/** The ports from the environment, each probed by listening on it; any taken one stops the demo here. */
async function preflight(): Promise<Ports> {
	const plan = demoPorts(process.env, { emulator: !realTenant });
	if (!plan.ok) throw new DemoStop(plan.message);
	const taken: TakenPort[] = [];
	const avoid = plan.check.map((p) => p.port);
	for (const wanted of plan.check) {
		const code = await portProblem(wanted.port);
		if (code === undefined) continue;
		const suggestion = wanted.anyFreeAllowed
			? 0
			: await firstFreePort(alternativePorts(wanted.port, avoid));
		if (suggestion) avoid.push(suggestion);
		taken.push({ ...wanted, code, suggestion });
	}
	if (taken.length > 0) throw new DemoStop(portsTakenMessage(taken));
	return plan;
}

/** n8n reads its task broker's port from N8N_RUNNERS_BROKER_PORT; `n8n start` and `n8n execute` both listen on it. */
function brokerEnv(ports: Ports): NodeJS.ProcessEnv {
	return { N8N_RUNNERS_BROKER_PORT: String(ports.broker) };
}

/**
 * `n8n start`, then proof that what answers on the port is this n8n: startN8n returns as soon as anything on that
 * port serves n8n's JSON, which another n8n that took the port after the preflight would do as well.
 */
async function startOwnN8n(
	install: N8nInstall,
	userFolder: string,
	ports: Ports,
): Promise<RunningN8n> {
	let n8n: RunningN8n;
	try {
		n8n = await startN8n(install, userFolder, ports.n8n, brokerEnv(ports));
	} catch (error: unknown) {
		// startN8n's errors are one line saying what happened, then n8n's output.
		const [what, ...log] = (error instanceof Error ? error.message : String(error)).split('\n');
		throw new DemoStop(n8nNotUpMessage(ports.n8n, what.replace(/:$/, ''), log.join('\n')));
	}
	const alive = () => n8n.process.exitCode === null && n8n.process.signalCode === null;
	// The answer may have come from another server while this n8n is still booting: wait until it says it listens
	// on the port, or exits (n8n exits when its port is taken), as long as startN8n would have waited.
	const deadline = Date.now() + 180_000;
	while (alive() && !listensLine(ports.n8n).test(n8n.output()) && Date.now() < deadline)
		await new Promise((resolveWait) => setTimeout(resolveWait, 250));
	const problem = ownN8nProblem(
		{ output: n8n.output(), exitCode: n8n.process.exitCode, signal: n8n.process.signalCode },
		ports.n8n,
	);
	if (problem) {
		await n8n.stop();
		throw new DemoStop(n8nNotUpMessage(ports.n8n, problem, n8n.output()));
	}
	return n8n;
}

interface Setup {
	credentials: Array<{
		id: string;
		name: string;
		type: string;
		data: ICredentialDataDecryptedObject;
	}>;
	teamIds: string[];
	colleague: string;
	delegated: boolean;
	/**
	 * Whether the ready-made workflows are imported, and the group they read instead of their placeholders: none in
	 * the emulator (it has the placeholders' groups, "Support Team" and "Support Agents"), GRAPH_GROUP in a tenant.
	 */
	templates: { group?: string } | undefined;
	/** How many people the board should show, when known. */
	boardSize?: number;
	emulator?: GraphEmulator;
	stopChanges?: () => void;
	available?: () => number;
}

async function emulatorSetup(ports: Ports): Promise<Setup> {
	const emu = await GraphEmulator.start({ port: ports.emulator, seed: 2026 });
	emu.addUsers(3000);
	const app = await registerApp(emu, 'd3a0a990-0000-4000-8000-000000000001');
	const team = emu.users.slice(0, 25);
	// The groups the ready-made workflows name: the board shows everyone, tickets go to a few agents.
	emu.addGroup({ displayName: 'Support Team', members: emu.users.map((user) => user.id) });
	emu.addGroup({
		displayName: 'Support Agents',
		members: emu.users.slice(0, 8).map((user) => user.id),
	});
	// Presence changes over time, as in a real tenant: a few users every two seconds.
	const states = [
		['Available', 'Available'],
		['Busy', 'InACall'],
		['Busy', 'InAMeeting'],
		['Away', 'Away'],
		['DoNotDisturb', 'Presenting'],
		['BeRightBack', 'BeRightBack'],
		['Offline', 'OffWork'],
	];
	let tick = 0;
	const timer = setInterval(() => {
		for (let i = 0; i < 20; i++) {
			const user = emu.users[(tick * 37 + i * 101) % emu.users.length];
			const [availability, activity] = states[(tick + i) % states.length];
			emu.setPresence(user.id, { availability, activity });
		}
		tick++;
		if (emu.log.length > 50_000) emu.clearLog();
	}, 2000);
	return {
		credentials: [
			{ ...APP_CREDENTIAL, type: 'microsoftGraphPresenceAppApi', data: appSecretData(emu, app) },
			{
				...DELEGATED_CREDENTIAL,
				type: 'microsoftGraphPresenceOAuth2Api',
				data: await delegatedData(emu, app),
			},
		],
		teamIds: team.map((user) => user.id),
		// Named by e-mail address, which differs from the UPN as in most tenants.
		colleague: emu.users[1].mail,
		delegated: true,
		templates: {},
		boardSize: emu.users.length,
		emulator: emu,
		stopChanges: () => clearInterval(timer),
		available: () =>
			team.filter((user) => emu.getUser(user.id)?.presence.availability === 'Available').length,
	};
}

function tenantSetup(): Setup {
	const teamIds = (process.env.GRAPH_USER_IDS ?? '').split(/[\s,;]+/).filter((id) => id);
	return {
		credentials: [
			{
				...APP_CREDENTIAL,
				type: 'microsoftGraphPresenceAppApi',
				data: {
					cloud: process.env.GRAPH_CLOUD ?? 'global',
					tenantId: process.env.GRAPH_TENANT_ID ?? '',
					clientId: process.env.GRAPH_CLIENT_ID ?? '',
					authMethod: 'secret',
					clientSecret: process.env.GRAPH_CLIENT_SECRET ?? '',
				},
			},
		],
		teamIds,
		colleague: process.env.GRAPH_COLLEAGUE ?? teamIds[0] ?? '',
		delegated: false,
		templates: process.env.GRAPH_GROUP ? { group: process.env.GRAPH_GROUP } : undefined,
	};
}

type RunOutput = {
	data?: {
		resultData?: {
			runData?: Record<
				string,
				Array<{ data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> } }>
			>;
		};
	};
};

function nodeItems(run: unknown, node: string): Array<{ json: Record<string, unknown> }> {
	const runs = (run as RunOutput)?.data?.resultData?.runData?.[node];
	return runs?.[runs.length - 1]?.data?.main?.[0] ?? [];
}

async function verify(session: N8nCliSession, setup: Setup): Promise<void> {
	setup.stopChanges?.();
	const expected = setup.available?.();
	const run = await session.execute(TEAM_WORKFLOW);
	const presences = nodeItems(run, 'Get presence of the team');
	const messages = nodeItems(run, 'Message per person');
	if (presences.length !== setup.teamIds.length) {
		throw new Error(
			`demo check: expected ${setup.teamIds.length} presences, got ${presences.length}\n${JSON.stringify(run).slice(-3000)}`,
		);
	}
	if (expected !== undefined && messages.length !== expected) {
		throw new Error(`demo check: expected ${expected} available people, got ${messages.length}`);
	}
	const unnamed = messages.filter((item) => !/^\S.* is available/.test(String(item.json.message)));
	if (unnamed.length > 0 || presences.some((item) => typeof item.json.displayName !== 'string')) {
		throw new Error(
			`demo check: every message should name the person, got ${JSON.stringify(unnamed[0]?.json ?? presences[0]?.json)}`,
		);
	}
	say(
		`check: the team workflow read ${presences.length} presences in ${setup.emulator?.requests('/communications/getPresencesByUserId').length ?? '?'} Graph request(s); ${messages.length} available`,
	);
}

/** The board answers an HTML page of tiles, one per member of the group when the demo knows how many. */
async function verifyBoard(url: string, setup: Setup): Promise<void> {
	const started = Date.now();
	const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
	const html = await response.text();
	const tiles = html.split('<section class="tile"').length - 1;
	const type = response.headers.get('content-type') ?? '';
	if (response.status !== 200 || !type.startsWith('text/html') || tiles === 0)
		throw new Error(
			`demo check: the board answered ${response.status} ${type} with ${tiles} tiles\n${html.slice(0, 2000)}`,
		);
	if (!/<meta http-equiv="refresh"/.test(html))
		throw new Error('demo check: the board page does not refresh itself');
	if (setup.boardSize !== undefined && tiles !== setup.boardSize)
		throw new Error(`demo check: expected ${setup.boardSize} tiles on the board, got ${tiles}`);
	say(
		`check: the board answered HTML with ${tiles} tiles in ${((Date.now() - started) / 1000).toFixed(1)} s`,
	);
}

/** The routing webhook answers a ticket with an agent of the agents' group, or 503 when none is available. */
async function verifyRoute(url: string, setup: Setup): Promise<void> {
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ subject: 'demo check' }),
		signal: AbortSignal.timeout(60_000),
	});
	const text = await response.text();
	let body: { agent?: { displayName?: unknown }; availableAgents?: unknown; error?: unknown } = {};
	try {
		body = JSON.parse(text) as typeof body;
	} catch {
		// reported below
	}
	const agents = setup.emulator ? 8 : undefined;
	if (
		response.status === 200 &&
		typeof body.agent?.displayName === 'string' &&
		typeof body.availableAgents === 'number' &&
		(agents === undefined || body.availableAgents <= agents)
	) {
		say(
			`check: a ticket went to ${body.agent.displayName} (${body.availableAgents} agents available)`,
		);
		return;
	}
	if (response.status === 503 && body.error === 'nobody available') {
		say('check: a ticket was answered 503, nobody available');
		return;
	}
	throw new Error(`demo check: routing answered ${response.status} ${text.slice(0, 1000)}`);
}

async function main(): Promise<void> {
	if (realTenant && tenantSetup().teamIds.length === 0)
		throw new DemoStop(
			'Set GRAPH_USER_IDS to the object ids (or UPNs) of a few users of your tenant',
		);
	const ports = await preflight();
	say('Preparing n8n (the first run installs it into a cache: several minutes)…');
	const install = await ensureN8n(N8N_LINES.v2);
	const userFolder = await createUserFolder(await packPackage(), 'n8n-presence-demo-');
	const setup = realTenant ? tenantSetup() : await emulatorSetup(ports);

	// The broker port goes to every command: `n8n execute` listens on it, the imports ignore it.
	const session = new N8nCliSession(install, userFolder, brokerEnv(ports));
	await session.importFile('credentials', setup.credentials);
	const credentials = {
		app: APP_CREDENTIAL,
		delegated: setup.delegated ? DELEGATED_CREDENTIAL : undefined,
	};
	const templateCredentials: CredentialChoice = { microsoftGraphPresenceAppApi: APP_CREDENTIAL };
	const templates =
		setup.templates === undefined
			? []
			: [
					importableTemplate('board', BOARD_WORKFLOW, templateCredentials, setup.templates.group),
					importableTemplate('route', ROUTE_WORKFLOW, templateCredentials, setup.templates.group),
				];
	await session.importFile('workflow', [
		teamAvailabilityWorkflow(TEAM_WORKFLOW, setup.teamIds, credentials),
		meAndColleagueWorkflow(ME_WORKFLOW, setup.colleague, credentials),
		...templates,
	]);
	// Active from the start (n8n 2.x activates what is published): the board's URL answers as soon as n8n does.
	for (const workflow of templates) await session.cli(['publish:workflow', `--id=${workflow.id}`]);

	if (check) await verify(session, setup);

	const n8n = await startOwnN8n(install, userFolder, ports);
	await setupOwner(n8n.url, owner);
	const login = await fetch(`${n8n.url}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({
			emailOrLdapLoginId: owner.email,
			email: owner.email,
			password: owner.password,
		}),
	});
	if (!login.ok) throw new Error(`signing in failed: ${login.status}`);

	const stop = async () => {
		await n8n.stop();
		await setup.emulator?.stop();
		setup.stopChanges?.();
		removeUserFolder(userFolder);
	};
	const boardUrl = `${n8n.url}/webhook/${BOARD_PATH}`;
	if (check) {
		say(`check: n8n ${install.line.version} started at ${n8n.url} and the owner signed in`);
		try {
			if (templates.length > 0) {
				await verifyBoard(boardUrl, setup);
				await verifyRoute(`${n8n.url}/webhook/${ROUTE_PATH}`, setup);
			}
		} finally {
			await stop();
		}
		return;
	}
	say('');
	say(`n8n ${install.line.version} is running: ${n8n.url}`);
	say(`  sign in as ${owner.email} / ${owner.password}`);
	say(`  workflows: ${n8n.url}/workflow/${TEAM_WORKFLOW} and ${n8n.url}/workflow/${ME_WORKFLOW}`);
	if (templates.length > 0) {
		say(`  presence board: ${boardUrl} (open it in a browser; it refreshes itself)`);
		say(
			`  route a ticket: curl -X POST -H 'content-type: application/json' -d '{"subject":"help"}' ${n8n.url}/webhook/${ROUTE_PATH}`,
		);
	} else say('  (set GRAPH_GROUP to a group of your tenant to get the presence board too)');
	if (setup.emulator)
		say(`  Graph emulator: ${setup.emulator.url} (3,000 users, presence changing every 2 s)`);
	say('Ctrl+C stops everything.');
	await new Promise<void>((resolveStop) => {
		process.once('SIGINT', () => resolveStop());
		process.once('SIGTERM', () => resolveStop());
	});
	await stop();
}

main().catch((error: unknown) => {
	// A DemoStop says what is wrong and what to do; a stack trace would only bury that. Anything else is a bug.
	const text =
		error instanceof DemoStop
			? error.message
			: error instanceof Error
				? (error.stack ?? error.message)
				: String(error);
	process.stderr.write(`${text}\n`);
	process.exit(1);
});
