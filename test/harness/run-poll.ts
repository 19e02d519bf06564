import { PollContext } from 'n8n-core';
import type { IDataObject, INodeExecutionData, WorkflowActivateMode } from 'n8n-workflow';
import { UnexpectedError } from 'n8n-workflow';

import { captureLogs } from './environment';
import { buildEnvironment, type RunWorkflowOptions } from './run-workflow';

export interface RunPollOptions extends RunWorkflowOptions {
	/** The polling trigger to poll. */
	node: string;
	/** `trigger` for an active workflow's poll, `manual` for "Fetch Test Event". */
	mode: 'trigger' | 'manual';
	activation?: WorkflowActivateMode;
}

export interface RunPollResult {
	/** What the poll returned: n8n starts an execution with these items when not null. */
	items: INodeExecutionData[] | null;
	error: Error | undefined;
	/** The workflow's static data after the poll: pass it back as `workflow.staticData` for the next poll. */
	staticData: IDataObject;
	/** What the poll reported through n8n's error path (`__emitError`: a failed execution, the error workflow). */
	reportedErrors: Error[];
	logs: string[];
}

/**
 * One poll of a polling trigger through n8n-core's own PollContext, as n8n's poll scheduler runs it for an
 * active workflow (or for "Fetch Test Event" in manual mode). Static data is the workflow's, as n8n saves it.
 */
export async function runPoll(options: RunPollOptions): Promise<RunPollResult> {
	const { workflow, additionalData } = await buildEnvironment(options);
	const node = workflow.getNode(options.node);
	if (node === null) throw new UnexpectedError(`Node "${options.node}" is not in the workflow`);
	const nodeType = workflow.nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
	if (!nodeType.poll) throw new UnexpectedError(`Node "${options.node}" has no poll function`);
	const poll = nodeType.poll;
	const reportedErrors: Error[] = [];
	const context = new PollContext(
		workflow,
		node,
		additionalData,
		options.mode,
		options.activation ?? 'activate',
		() => undefined,
		(reported: Error) => reportedErrors.push(reported),
	);
	const logs: string[] = [];
	let items: INodeExecutionData[] | null = null;
	let error: Error | undefined;
	await captureLogs(logs, async () => {
		try {
			const result = await poll.call(context);
			items = result === null ? null : (result[0] ?? []);
		} catch (caught) {
			error = caught instanceof Error ? caught : new Error(String(caught));
		}
	});
	return {
		items,
		error,
		staticData: JSON.parse(JSON.stringify(workflow.staticData)) as IDataObject,
		reportedErrors,
		logs,
	};
}
