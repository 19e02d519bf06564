import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

/**
 * The emulator's outgoing side: Graph calling a subscriber's webhook. Validation handshakes, notifications and
 * lifecycle events go out through here, over Node's own http/https clients with short timeouts, each attempt
 * recorded. Nothing here ever rejects: an unreachable receiver is an outcome, not an error of the emulator.
 */

export type DeliveryKind = 'notification' | 'lifecycle' | 'validation';

export interface Delivery {
	/** When the attempt started (ms since epoch, real time, like the request log). */
	time: number;
	/** As requested; for validation with the `validationToken` query. */
	url: string;
	/** For a notification POST carrying entries of several subscriptions (same URL): the first entry's. */
	subscriptionId: string;
	kind: DeliveryKind;
	/** The receiver's HTTP status; 0 = no answer in time (timeout, refused, reset, or aborted by stop()). */
	status: number;
	durationMs: number;
	/** What was sent: the JSON payload (parsed), or undefined for a validation request (empty body). */
	body: unknown;
	/** 1-based; validation requests are never retried. */
	attempt: number;
	/** Why there was no answer, or why a validation answer was refused. */
	error?: string;
	/** A notification POST sent again with the identical body (the emulator's `redelivery` option). */
	redelivery?: true;
	/** The receiver's answer (at most the first 4 KB). */
	responseText?: string;
}

export interface DeliveryPolicy {
	/** A notification or lifecycle POST must be answered 2xx within this (Graph: 3 s). */
	timeoutMs: number;
	/** Tries in all, the first included (Graph retries for hours; tests want it short). */
	attempts: number;
	retryDelayMs: number;
	/** A validation request must be answered within this (Graph: 10 s). */
	validationTimeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: Readonly<DeliveryPolicy> = {
	timeoutMs: 3000,
	attempts: 3,
	retryDelayMs: 200,
	validationTimeoutMs: 10_000,
};

export function validateDeliveryPolicy(policy: DeliveryPolicy): DeliveryPolicy {
	const { timeoutMs, attempts, retryDelayMs, validationTimeoutMs } = policy;
	if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
		throw new RangeError(`deliveryPolicy.timeoutMs must be > 0, got ${timeoutMs}`);
	if (!(Number.isInteger(attempts) && attempts >= 1))
		throw new RangeError(`deliveryPolicy.attempts must be a whole number >= 1, got ${attempts}`);
	if (!(Number.isFinite(retryDelayMs) && retryDelayMs >= 0))
		throw new RangeError(`deliveryPolicy.retryDelayMs must be >= 0, got ${retryDelayMs}`);
	if (!(Number.isFinite(validationTimeoutMs) && validationTimeoutMs > 0)) {
		throw new RangeError(
			`deliveryPolicy.validationTimeoutMs must be > 0, got ${validationTimeoutMs}`,
		);
	}
	return { timeoutMs, attempts, retryDelayMs, validationTimeoutMs };
}

export type ValidationOutcome = { ok: true } | { ok: false; message: string };

interface Answer {
	status: number;
	text: string;
	contentType: string | undefined;
	durationMs: number;
	error?: string;
}

const MAX_RESPONSE_TEXT = 4096;

/**
 * Graph's validation token: readable text with spaces and colons, form-encoded ('+' for spaces, lowercase
 * escapes) as Graph sends it, so a receiver that decodes with decodeURIComponent alone fails here as it would there.
 */
export function newValidationToken(): { token: string; encoded: string } {
	const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
	const encoded = encodeURIComponent(token)
		.replace(/%20/g, '+')
		.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
	return { token, encoded };
}

export class WebhookSender {
	/** Trusted in addition to Node's default CAs, for https receivers with a test certificate. */
	ca: string | Buffer | undefined;
	private readonly inFlight = new Set<ClientRequest>();
	private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
	private readonly tasks = new Set<Promise<unknown>>();
	private stopped = false;

	constructor(
		private readonly deliveries: Delivery[],
		private readonly policy: () => DeliveryPolicy,
	) {}

	/** True while a delivery (with its retries) or a validation request is under way. */
	get busy(): boolean {
		return this.tasks.size > 0;
	}

	/** POSTs the payload, retrying per the policy; true when an attempt was answered 2xx. Never rejects. */
	deliver(
		kind: 'notification' | 'lifecycle',
		url: string,
		subscriptionId: string,
		payload: unknown,
	): Promise<boolean> {
		return this.track(this.deliverWithRetries(kind, url, subscriptionId, payload));
	}

	/**
	 * The same POST again after `delayMs` (with its own retries), recorded with `redelivery`: a receiver
	 * that is told the same notifications twice. Never rejects.
	 */
	redeliver(
		url: string,
		subscriptionId: string,
		payload: unknown,
		delayMs: number,
	): Promise<boolean> {
		return this.track(
			this.sleep(delayMs).then(() =>
				this.stopped
					? false
					: this.deliverWithRetries('notification', url, subscriptionId, payload, true),
			),
		);
	}

	/** Graph's handshake: POST {url}?validationToken=…, which must be echoed (200, text/plain) in time. */
	validate(url: string, subscriptionId: string): Promise<ValidationOutcome> {
		return this.track(this.runValidation(url, subscriptionId));
	}

	/** Aborts in-flight requests and pending retries, then waits until every delivery has settled. */
	async stop(): Promise<void> {
		this.stopped = true;
		for (const [timer, wake] of this.sleepers) {
			clearTimeout(timer);
			wake();
		}
		this.sleepers.clear();
		for (const req of this.inFlight) req.destroy(new Error('the emulator stopped'));
		await Promise.allSettled([...this.tasks]);
	}

	private async deliverWithRetries(
		kind: 'notification' | 'lifecycle',
		url: string,
		subscriptionId: string,
		payload: unknown,
		redelivery = false,
	): Promise<boolean> {
		const body = Buffer.from(JSON.stringify(payload));
		const policy = this.policy();
		for (let attempt = 1; attempt <= policy.attempts && !this.stopped; attempt++) {
			const time = Date.now();
			const answer = await this.send(
				url,
				body,
				'application/json; charset=utf-8',
				policy.timeoutMs,
			);
			this.record(
				{
					time,
					url,
					subscriptionId,
					kind,
					body: payload,
					attempt,
					...(redelivery ? { redelivery: true as const } : {}),
				},
				answer,
			);
			if (answer.status >= 200 && answer.status < 300) return true;
			if (attempt < policy.attempts) await this.sleep(policy.retryDelayMs);
		}
		return false;
	}

	private async runValidation(url: string, subscriptionId: string): Promise<ValidationOutcome> {
		const { token, encoded } = newValidationToken();
		const target = new URL(url);
		target.hash = '';
		target.search = `${target.search === '' ? '?' : `${target.search}&`}validationToken=${encoded}`;
		const time = Date.now();
		const answer = await this.send(
			target.toString(),
			Buffer.alloc(0),
			'text/plain; charset=utf-8',
			this.policy().validationTimeoutMs,
		);
		let outcome: ValidationOutcome = { ok: true };
		if (answer.status === 0) {
			outcome = {
				ok: false,
				message:
					answer.error?.startsWith('no answer within') === true
						? 'Subscription validation request timed out.'
						: 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
			};
		} else if (answer.status !== 200) {
			outcome = {
				ok: false,
				message:
					'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
			};
			answer.error = `answered ${answer.status}, not 200`;
		} else if (answer.text !== token || !/^text\/plain\s*(;|$)/i.test(answer.contentType ?? '')) {
			outcome = {
				ok: false,
				message:
					'Subscription validation request failed. Response must exactly match validationToken query parameter.',
			};
			answer.error =
				answer.text !== token
					? 'the answer is not the decoded validationToken'
					: `Content-Type is '${answer.contentType ?? ''}', not text/plain`;
		}
		this.record(
			{
				time,
				url: target.toString(),
				subscriptionId,
				kind: 'validation',
				body: undefined,
				attempt: 1,
			},
			answer,
		);
		return outcome;
	}

	private record(base: Omit<Delivery, 'status' | 'durationMs'>, answer: Answer): void {
		const delivery: Delivery = { ...base, status: answer.status, durationMs: answer.durationMs };
		if (answer.error !== undefined) delivery.error = answer.error;
		if (answer.status !== 0) delivery.responseText = answer.text;
		this.deliveries.push(delivery);
	}

	/** One POST; resolves with status 0 on timeout or any network failure. */
	private send(url: string, body: Buffer, contentType: string, timeoutMs: number): Promise<Answer> {
		const started = Date.now();
		return new Promise<Answer>((resolve) => {
			if (this.stopped) {
				resolve({
					status: 0,
					text: '',
					contentType: undefined,
					durationMs: 0,
					error: 'the emulator stopped',
				});
				return;
			}
			const target = new URL(url);
			// No keep-alive agent: nothing may outlive the delivery and hold jest open.
			const options: RequestOptions = {
				method: 'POST',
				agent: false,
				headers: { 'Content-Type': contentType, 'Content-Length': String(body.length) },
			};
			if (target.protocol === 'https:' && this.ca !== undefined) options.ca = this.ca;
			let settled = false;
			let timer: NodeJS.Timeout | undefined;
			let req: ClientRequest | undefined;
			const finish = (answer: Omit<Answer, 'durationMs'>): void => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				if (req !== undefined) this.inFlight.delete(req);
				resolve({ ...answer, durationMs: Date.now() - started });
			};
			const onResponse = (res: IncomingMessage): void => {
				const chunks: Buffer[] = [];
				let size = 0;
				res.on('data', (chunk: Buffer) => {
					if (size < MAX_RESPONSE_TEXT) chunks.push(chunk);
					size += chunk.length;
				});
				res.on('end', () => {
					const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_RESPONSE_TEXT);
					finish({ status: res.statusCode ?? 0, text, contentType: res.headers['content-type'] });
				});
				res.on('error', (err: Error) =>
					finish({ status: 0, text: '', contentType: undefined, error: err.message }),
				);
			};
			try {
				req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
					target,
					options,
					onResponse,
				);
			} catch (err: unknown) {
				finish({
					status: 0,
					text: '',
					contentType: undefined,
					error: err instanceof Error ? err.message : String(err),
				});
				return;
			}
			const sent = req;
			this.inFlight.add(sent);
			timer = setTimeout(() => {
				finish({
					status: 0,
					text: '',
					contentType: undefined,
					error: `no answer within ${timeoutMs} ms`,
				});
				sent.destroy();
			}, timeoutMs);
			sent.on('error', (err: Error) =>
				finish({ status: 0, text: '', contentType: undefined, error: err.message }),
			);
			// A response cut off mid-body ends in 'close' without 'end' on some Node versions.
			sent.on('close', () =>
				finish({
					status: 0,
					text: '',
					contentType: undefined,
					error: 'the connection closed before a complete answer',
				}),
			);
			sent.end(body);
		});
	}

	private sleep(ms: number): Promise<void> {
		return new Promise<void>((resolve) => {
			const timer = setTimeout(() => {
				this.sleepers.delete(timer);
				resolve();
			}, ms);
			this.sleepers.set(timer, resolve);
		});
	}

	private track<T>(task: Promise<T>): Promise<T> {
		this.tasks.add(task);
		const forget = (): void => {
			this.tasks.delete(task);
		};
		task.then(forget, forget);
		return task;
	}
}
