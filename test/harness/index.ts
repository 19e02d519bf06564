// The environment module must load before n8n-core: keep this import first.
import './environment';

export { runWorkflow } from './run-workflow';
export type { HarnessWorkflow, RunWorkflowOptions, RunWorkflowResult } from './run-workflow';
export type {
	CredentialUpdate,
	CredentialsHelperOptions,
	HarnessCredential,
} from './credentials-helper';
export { HarnessCredentialsHelper } from './credentials-helper';
export { CredentialTypeRegistry, OAuth2ApiCredentialType } from './credential-types';
export {
	HARNESS_ITEMS_TYPE,
	HarnessItems,
	MANUAL_TRIGGER_TYPE,
	ManualTrigger,
	NodeTypeRegistry,
} from './node-types';
export type { NodeTypeMap } from './node-types';
export { describeValue, logsOutsideRuns } from './environment';
export { runPoll } from './run-poll';
export type { RunPollOptions, RunPollResult } from './run-poll';
export { buildEnvironment } from './run-workflow';
export { startWebhookHost } from './webhook-host';
export type { WebhookHost } from './webhook-host';
