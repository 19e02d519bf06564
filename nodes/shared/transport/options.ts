import { NodeOperationError, type INode, type INodeProperties } from 'n8n-workflow';

/**
 * The Graph client's settings, written once: the fields every node lists in its Options, their
 * defaults and their bounds all come from the one spec below, so a bound cannot differ between the
 * editor and the check.
 */

/** Graph's documented presence budget: requests per 30 s per app per tenant. */
export const GRAPH_THROTTLE_LIMIT = 1500;

export interface GraphClientOptions {
	apiVersion: 'v1.0' | 'beta';
	/** Requests this process may start per 30 s for this app and tenant. */
	maxRequestsPer30Seconds: number;
	/** Requests in flight at once. */
	concurrency: number;
	maxRetries: number;
	maxRetryWaitSeconds: number;
	/** How long one execution may be held by Graph's throttling in all before a request gives up. */
	maxThrottleWaitMinutes: number;
	timeoutSeconds: number;
}

interface NumberSpec {
	displayName: string;
	default: number;
	min: number;
	max: number;
	/** Whole numbers only (n8n's number field also takes decimals). */
	integer?: boolean;
	description: string;
}

interface ChoiceSpec<T extends string> {
	displayName: string;
	default: T;
	choices: Array<{ name: string; value: T }>;
	description: string;
}

type Spec = {
	[K in keyof GraphClientOptions]: GraphClientOptions[K] extends string
		? ChoiceSpec<GraphClientOptions[K]>
		: NumberSpec;
};

const SPEC: Spec = {
	apiVersion: {
		displayName: 'API Version',
		default: 'v1.0',
		choices: [
			{ name: 'v1.0', value: 'v1.0' },
			{ name: 'Beta', value: 'beta' },
		],
		description: 'Graph API version. Beta may show newer fields; it can change without notice.',
	},
	concurrency: {
		displayName: 'Concurrency',
		default: 8,
		min: 1,
		max: 64,
		integer: true,
		description: 'How many Graph requests may be in flight at once',
	},
	maxRequestsPer30Seconds: {
		displayName: 'Max Requests per 30 Seconds',
		default: GRAPH_THROTTLE_LIMIT,
		min: 1,
		max: GRAPH_THROTTLE_LIMIT,
		description:
			'Graph allows 1,500 presence requests per 30 seconds per app and tenant. The node adapts when other n8n workers or tools spend the same budget; lower this to keep part of it free for them.',
	},
	maxRetries: {
		displayName: 'Max Retries',
		default: 5,
		min: 0,
		max: 10,
		integer: true,
		description:
			'How often a request is tried again after a fault: unavailable (504, or 503 without Retry-After), dropped, timed out or unreadable. Throttling (429, 503 with Retry-After) is retried within Max Throttle Wait instead.',
	},
	maxRetryWaitSeconds: {
		displayName: 'Max Retry Wait (Seconds)',
		default: 180,
		min: 0,
		max: 180,
		description: "The longest single wait before a retry, whatever Graph's Retry-After says",
	},
	maxThrottleWaitMinutes: {
		displayName: 'Max Throttle Wait (Minutes)',
		default: 10,
		min: 0,
		max: 1440,
		description:
			'How long one execution may wait in all while Graph throttles it (429, or 503 with Retry-After). Throttled requests are retried as often as Graph asks within this time; then the request fails naming this option.',
	},
	timeoutSeconds: {
		displayName: 'Timeout (Seconds)',
		default: 30,
		min: 1,
		max: 300,
		description: 'How long one Graph request may take before it is dropped and retried',
	},
};

const NAMES = Object.keys(SPEC) as Array<keyof GraphClientOptions>;

function isChoice(spec: NumberSpec | ChoiceSpec<string>): spec is ChoiceSpec<string> {
	return 'choices' in spec;
}

export const DEFAULT_CLIENT_OPTIONS: Readonly<GraphClientOptions> = Object.freeze(
	Object.fromEntries(
		NAMES.map((name) => [name, SPEC[name].default]),
	) as unknown as GraphClientOptions,
);

/** The client's settings as fields of a node's Options collection. */
export const clientOptionFields: INodeProperties[] = NAMES.map((name): INodeProperties => {
	const spec: NumberSpec | ChoiceSpec<string> = SPEC[name];
	const common = {
		displayName: spec.displayName,
		name,
		default: spec.default,
		description: spec.description,
	};
	if (isChoice(spec)) return { ...common, type: 'options', options: spec.choices };
	return { ...common, type: 'number', typeOptions: { minValue: spec.min, maxValue: spec.max } };
});

/** What is wrong with one value, or undefined. */
function problemWith(name: keyof GraphClientOptions, value: unknown): string | undefined {
	const spec: NumberSpec | ChoiceSpec<string> = SPEC[name];
	if (isChoice(spec)) {
		if (spec.choices.some((choice) => choice.value === value)) return undefined;
		return `${spec.displayName} must be ${spec.choices.map((choice) => choice.value).join(' or ')}, got "${String(value)}"`;
	}
	const number = typeof value === 'number' ? value : NaN;
	if (spec.integer) {
		if (Number.isInteger(number) && number >= spec.min && number <= spec.max) return undefined;
		return `${spec.displayName} must be a whole number from ${spec.min} to ${spec.max}, got ${String(value)}`;
	}
	if (number >= spec.min && number <= spec.max) return undefined;
	return `${spec.displayName} must be between ${spec.min} and ${spec.max}, got ${String(value)}`;
}

/**
 * The client's settings from a node's Options (other options are ignored), defaults for what is not
 * set; values out of bounds (typed by hand or by an expression) are refused before any request, all
 * named at once.
 */
export function readClientOptions(
	node: INode,
	options: Record<string, unknown> = {},
): GraphClientOptions {
	const merged: Record<string, unknown> = { ...DEFAULT_CLIENT_OPTIONS };
	for (const name of NAMES) if (options[name] !== undefined) merged[name] = options[name];
	const problems = NAMES.map((name) => problemWith(name, merged[name])).filter(
		(problem) => problem !== undefined,
	);
	if (problems.length > 0) throw new NodeOperationError(node, problems.join('; '));
	return merged as unknown as GraphClientOptions;
}
