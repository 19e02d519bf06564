import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { INodeExecutionData } from 'n8n-workflow';

import type { GraphEmulator, LogEntry } from '../emulator';
import {
	describeValue,
	logsOutsideRuns,
	runWorkflow,
	type RunWorkflowOptions,
	type RunWorkflowResult,
} from '../harness';
import { findSecrets } from '../shared/graphApp';

/** What one Graph attempt ran into, as the emulator logged it. */
export type AttemptKind =
	| 'ok'
	| '429 (Retry-After seconds)'
	| '429 (Retry-After date)'
	| '429 (throttle)'
	| '503'
	| '504'
	| 'connection reset'
	| 'slow (past timeout)'
	| 'malformed JSON'
	| 'truncated body'
	| 'token expired (401)'
	| string;

export type RetryAfterForm = 'seconds' | 'date';

export function attemptKind(
	entry: LogEntry,
	formOf: (entry: LogEntry) => RetryAfterForm,
): AttemptKind {
	if (entry.fault === '429')
		return formOf(entry) === 'date' ? '429 (Retry-After date)' : '429 (Retry-After seconds)';
	switch (entry.fault) {
		case '503':
			return '503';
		case '504':
			return '504';
		case 'reset':
			return 'connection reset';
		case 'slow':
			return 'slow (past timeout)';
		case 'malformedJson':
			return 'malformed JSON';
		case 'truncated':
			return 'truncated body';
		default:
			break;
	}
	if (entry.throttled === true) return '429 (throttle)';
	if (entry.status === 401) return 'token expired (401)';
	if (entry.status >= 200 && entry.status < 300) return 'ok';
	return `HTTP ${entry.status}`;
}

/**
 * The log keeps no response headers. With `retryAfterFormat = 'alternate'` on a fresh emulator, the form of each
 * Retry-After follows from the order the emulator wrote them: seconds, date, seconds, … over every answer that
 * carries one (injected 429 and 503, and its own throttle's 429), which is the order of the log.
 */
export function alternatingForms(log: readonly LogEntry[]): (entry: LogEntry) => RetryAfterForm {
	const forms = new Map<LogEntry, RetryAfterForm>();
	let count = 0;
	for (const entry of log) {
		if (entry.fault === '429' || entry.fault === '503' || entry.throttled === true)
			forms.set(entry, count++ % 2 === 0 ? 'seconds' : 'date');
	}
	return (entry) => forms.get(entry) ?? 'seconds';
}

/**
 * Throttling, which the client retries within the execution's Max Throttle Wait rather than against Max Retries:
 * 429s, and 503s that say how long to wait. Every injected 503 in this suite carries Retry-After (the emulator
 * sends one unless told `retryAfterFormat = 'none'`, which the chaos runs never do).
 */
export function isThrottlingKind(kind: AttemptKind): boolean {
	return kind.startsWith('429') || kind === '503';
}

export interface KindTally {
	kind: AttemptKind;
	/** Attempts that ran into it. */
	hits: number;
	/** Of those, how many were followed by another attempt of the same request. */
	retries: number;
	/** Of those, how many were the request's last attempt (the ids of that request came out as failures). */
	finalFailures: number;
}

export interface AttemptAnalysis {
	requests: number;
	attempts: number;
	retries: number;
	kinds: KindTally[];
	/** Ids whose request ended in a fault, by the log. */
	idsFailedByLog: Set<string>;
	/** Ids whose request's last attempt succeeded. */
	idsOkByLog: Set<string>;
	/** What each request that finally failed ran into, attempt by attempt. */
	failedSequences: AttemptKind[][];
	/**
	 * How long the execution stood throttled, seen from Graph's side: the wall time during which at least one
	 * request stood between a throttled attempt and its next attempt that was not throttled (a 401 renewal
	 * neither starts nor ends that). The measure Max Throttle Wait is spent by (ThrottleClock), to within a
	 * latency per request.
	 */
	throttleHeldMs: number;
}

/**
 * Groups presence attempts by request (a retry sends the very same id list) and charges every attempt that was
 * followed by another to what it ran into.
 */
export function analyzeAttempts(
	entries: readonly LogEntry[],
	formOf: (entry: LogEntry) => RetryAfterForm,
): AttemptAnalysis {
	const byRequest = new Map<string, LogEntry[]>();
	for (const entry of entries) {
		if (
			!/\/communications\/getPresencesByUserId$/i.test(entry.path) ||
			entry.batchSubRequest === true
		)
			continue;
		const ids = idsOf(entry);
		if (ids.length === 0) continue;
		const key = ids.join(',');
		const list = byRequest.get(key) ?? [];
		list.push(entry);
		byRequest.set(key, list);
	}
	const kinds = new Map<AttemptKind, KindTally>();
	const tally = (kind: AttemptKind): KindTally => {
		let found = kinds.get(kind);
		if (!found) {
			found = { kind, hits: 0, retries: 0, finalFailures: 0 };
			kinds.set(kind, found);
		}
		return found;
	};
	const idsFailedByLog = new Set<string>();
	const idsOkByLog = new Set<string>();
	const failedSequences: AttemptKind[][] = [];
	let attempts = 0;
	const held: Array<[number, number]> = [];
	for (const list of byRequest.values()) {
		list.sort((a, b) => a.time - b.time);
		attempts += list.length;
		let since: number | undefined;
		for (const entry of list) {
			const kind = attemptKind(entry, formOf);
			if (kind === 'token expired (401)') continue;
			if (isThrottlingKind(kind)) since ??= entry.time;
			else if (since !== undefined) {
				held.push([since, entry.time]);
				since = undefined;
			}
		}
		if (since !== undefined) held.push([since, list[list.length - 1].time]);
		const sequence = list.map((entry) => attemptKind(entry, formOf));
		if (sequence[sequence.length - 1] !== 'ok') failedSequences.push(sequence);
		list.forEach((entry, index) => {
			const kind = attemptKind(entry, formOf);
			const entryTally = tally(kind);
			entryTally.hits++;
			const last = index === list.length - 1;
			if (!last) entryTally.retries++;
			else if (kind !== 'ok') entryTally.finalFailures++;
			if (last)
				for (const id of idsOf(entry))
					(kind === 'ok' ? idsOkByLog : idsFailedByLog).add(id.toLowerCase());
		});
	}
	const order = (kind: AttemptKind): number => (kind === 'ok' ? 1 : 0);
	return {
		requests: byRequest.size,
		attempts,
		retries: attempts - byRequest.size,
		kinds: [...kinds.values()].sort((a, b) => order(a.kind) - order(b.kind) || b.hits - a.hits),
		idsFailedByLog,
		idsOkByLog,
		failedSequences,
		throttleHeldMs: unionMs(held),
	};
}

/** The length of the union of time intervals. */
function unionMs(intervals: Array<[number, number]>): number {
	let total = 0;
	let end = -Infinity;
	for (const [from, to] of [...intervals].sort((a, b) => a[0] - b[0])) {
		if (to <= end) continue;
		total += to - Math.max(from, end);
		end = to;
	}
	return total;
}

function idsOf(entry: LogEntry): string[] {
	const body = entry.body;
	if (typeof body === 'object' && body !== null && 'ids' in body && Array.isArray(body.ids)) {
		return body.ids.filter((id): id is string => typeof id === 'string');
	}
	return [];
}

export interface OutputCheck {
	items: number;
	presences: number;
	/** Ids that came out as `{ id, error }` items. */
	failures: number;
	notFound: number;
	duplicates: string[];
	missing: string[];
	unexpected: string[];
	/** Error items without an id and a message. */
	unclear: number;
	/** Presence items whose availability differs from the emulator's. */
	wrong: number;
}

/** Every requested id exactly once: with a presence, marked not found, or as a clearly marked failure. */
export function checkOutput(
	items: readonly INodeExecutionData[],
	requested: readonly string[],
	availabilityOf: (id: string) => string | undefined,
): OutputCheck {
	const wanted = new Set(requested.map((id) => id.toLowerCase()));
	const seen = new Set<string>();
	const check: OutputCheck = {
		items: items.length,
		presences: 0,
		failures: 0,
		notFound: 0,
		duplicates: [],
		missing: [],
		unexpected: [],
		unclear: 0,
		wrong: 0,
	};
	for (const { json } of items) {
		const id = typeof json.id === 'string' ? json.id.toLowerCase() : undefined;
		if (json.error !== undefined) {
			const error = json.error as { message?: unknown };
			if (id === undefined || typeof error.message !== 'string' || error.message === '')
				check.unclear++;
		}
		if (id === undefined) continue;
		if (!wanted.has(id)) {
			check.unexpected.push(id);
			continue;
		}
		if (seen.has(id)) {
			check.duplicates.push(id);
			continue;
		}
		seen.add(id);
		if (json.error !== undefined) check.failures++;
		else if (json.notFound === true) check.notFound++;
		else {
			check.presences++;
			if (json.availability !== availabilityOf(id)) check.wrong++;
		}
	}
	for (const id of wanted) if (!seen.has(id)) check.missing.push(id);
	return check;
}

// ---- secrets ----

export interface SecretScan {
	run: string;
	scannedChars: number;
	hits: string[];
}

export const secretScans: SecretScan[] = [];

/**
 * Runs a workflow and then scans everything it left behind — every node's output and error (the whole IRun),
 * the run's error, the lines logged through n8n's logger, the lines logged outside runs, and what was written to
 * stdout/stderr meanwhile — for the given secrets.
 */
export async function runAndScan(
	name: string,
	options: RunWorkflowOptions,
	secrets: () => string[],
): Promise<{ result: RunWorkflowResult; scan: SecretScan }> {
	const captured: string[] = [];
	const outsideBefore = logsOutsideRuns().length;
	const restore = captureStdio(captured);
	let result: RunWorkflowResult;
	try {
		result = await runWorkflow(options);
	} finally {
		restore();
	}
	const texts = [
		describeValue(result.data),
		describeValue(result.error),
		result.error
			? `${result.error.message} ${result.error.description ?? ''} ${result.error.stack ?? ''}`
			: '',
		result.logs.join('\n'),
		logsOutsideRuns().slice(outsideBefore).join('\n'),
		captured.join(''),
	];
	const all = secrets();
	const hits = new Set<string>();
	let scannedChars = 0;
	for (const text of texts) {
		scannedChars += text.length;
		for (const hit of findSecrets(text, all))
			hits.add(hit.length > 12 ? `${hit.slice(0, 6)}…(${hit.length} chars)` : '(short secret)');
	}
	const scan: SecretScan = { run: name, scannedChars, hits: [...hits] };
	secretScans.push(scan);
	return { result, scan };
}

function captureStdio(into: string[]): () => void {
	const out = process.stdout.write.bind(process.stdout);
	const err = process.stderr.write.bind(process.stderr);
	const tap =
		(original: typeof process.stdout.write): typeof process.stdout.write =>
		(chunk: unknown, ...rest: unknown[]): boolean => {
			into.push(
				typeof chunk === 'string'
					? chunk
					: Buffer.isBuffer(chunk)
						? chunk.toString('utf8')
						: String(chunk),
			);
			return (original as (chunk: unknown, ...rest: unknown[]) => boolean)(chunk, ...rest);
		};
	process.stdout.write = tap(out);
	process.stderr.write = tap(err);
	return () => {
		process.stdout.write = out;
		process.stderr.write = err;
	};
}

// ---- report ----

export const reportSections: string[] = [];

export function table(header: string[], rows: Array<Array<string | number>>): string {
	const line = (cells: Array<string | number>): string =>
		`| ${cells.map((cell) => String(cell).replace(/\|/g, '\\|')).join(' | ')} |`;
	return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** chaos.md for a complete run at the CI sizes; anything less (a -t filter, smaller sizes) goes to chaos.partial.md. */
export function writeReport(title: string, preamble: string[], complete: boolean): string {
	const text = [
		`# ${title}${complete ? '' : ' (partial run)'}`,
		'',
		...preamble,
		'',
		...reportSections,
		'',
	].join('\n');
	const dir = join(__dirname, 'results');
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, complete ? 'chaos.md' : 'chaos.partial.md'), text);
	return text;
}

/** Starts `poll` every 20 ms until it returns true or the returned stop function is called. */
export function whenever(poll: () => boolean): () => void {
	const timer = setInterval(() => {
		if (poll()) clearInterval(timer);
	}, 20);
	return () => clearInterval(timer);
}

export function presenceRequests(emu: GraphEmulator, since = 0): LogEntry[] {
	return emu.log
		.slice(since)
		.filter((entry) => /\/communications\/getPresencesByUserId$/i.test(entry.path));
}
