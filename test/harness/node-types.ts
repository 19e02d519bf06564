import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	INodeTypes,
	IVersionedNodeType,
} from 'n8n-workflow';
import {
	NodeConnectionTypes,
	NodeHelpers,
	NodeOperationError,
	UnexpectedError,
	jsonParse,
} from 'n8n-workflow';

/** Workflow JSON type names of the nodes the harness ships. */
export const MANUAL_TRIGGER_TYPE = 'n8n-nodes-base.manualTrigger';
export const HARNESS_ITEMS_TYPE = 'harness.items';

/**
 * Stands in for n8n-nodes-base's Manual Trigger ("When clicking 'Execute workflow'"), which is not installed
 * here. The engine hands a start node one empty item; this passes it on, so the next node runs once.
 */
export class ManualTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Manual Trigger',
		name: 'manualTrigger',
		group: ['trigger'],
		version: 1,
		description: 'Runs the flow when the test starts it',
		eventTriggerDescription: '',
		maxNodes: 1,
		defaults: { name: "When clicking 'Execute workflow'" },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		return [items.length > 0 ? items : [{ json: {} }]];
	}
}

function isPlainObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Emits the objects of its `items` parameter (a JSON array, or an expression that yields one) as separate
 * items, each paired with the first input item. Feeds many items to a node without n8n-nodes-base's Code node.
 */
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool -- a test fixture, never offered to agents
export class HarnessItems implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Harness Items',
		name: 'items',
		group: ['transform'],
		version: 1,
		description: 'Emits the given JSON objects as items',
		defaults: { name: 'Items' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName: 'Items',
				name: 'items',
				type: 'json',
				default: '[]',
				description: 'A JSON array of objects; each object becomes one item',
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const raw: unknown = this.getNodeParameter('items', 0);
		const parsed: unknown =
			typeof raw === 'string' ? jsonParse<unknown>(raw, { fallbackValue: raw }) : raw;
		if (!Array.isArray(parsed)) {
			throw new NodeOperationError(
				this.getNode(),
				'The "items" parameter must be a JSON array of objects',
				{
					itemIndex: 0,
				},
			);
		}
		return [
			parsed.map((entry: unknown, index): INodeExecutionData => {
				if (!isPlainObject(entry)) {
					throw new NodeOperationError(
						this.getNode(),
						`Entry ${index} of "items" is not an object`,
						{
							itemIndex: 0,
						},
					);
				}
				return { json: entry, pairedItem: { item: 0 } };
			}),
		];
	}
}

export type NodeTypeMap = Record<string, INodeType | IVersionedNodeType>;

/** The harness's own node types, keyed by their workflow JSON type names. */
export function builtInNodeTypes(): NodeTypeMap {
	return {
		[MANUAL_TRIGGER_TYPE]: new ManualTrigger(),
		[HARNESS_ITEMS_TYPE]: new HarnessItems(),
	};
}

/** n8n's `INodeTypes` over a fixed map: the caller's types plus the harness's own. */
export class NodeTypeRegistry implements INodeTypes {
	private readonly types: NodeTypeMap;

	constructor(types: NodeTypeMap) {
		this.types = { ...builtInNodeTypes(), ...types };
	}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		const type = this.types[nodeType];
		if (type === undefined) {
			throw new UnexpectedError(
				`Unknown node type "${nodeType}": pass it in runWorkflow({ nodeTypes }) under its workflow JSON type name`,
			);
		}
		return type;
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes(): IDataObject {
		return {};
	}
}
