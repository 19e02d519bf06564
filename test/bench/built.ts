import { DIST, loadBuiltPackage, requireBuilt, type BuiltPackage } from '../shared/builtPackage';

/**
 * What the bench runs, from the built files: the package, and the client, presence-read and indexing modules its client-only
 * case drives directly. From `benchDist()`: the snapshot of dist/ bench.ts takes at its start (so that a
 * concurrent `npm run build`, which first deletes dist/, cannot pull it away mid-run), else dist/ itself.
 * Everything comes from one directory, so the node and the bench client share one throttle module.
 */
export interface Built extends BuiltPackage {
	GraphClient: (typeof import('../../nodes/shared/transport/graphClient'))['GraphClient'];
	getManyPresences: (typeof import('../../nodes/shared/graph/presence'))['getManyPresences'];
	indexById: (typeof import('../../nodes/shared/presence/presence'))['indexById'];
}

/** The client module, also patched in place by the profiler (same file, same require cache entry). */
export const GRAPH_CLIENT_FILE = 'nodes/shared/transport/graphClient.js';

export const benchDist = (): string => process.env.BENCH_DIST ?? DIST;

export function loadBuilt(dir: string = benchDist()): Built {
	return {
		...loadBuiltPackage(dir),
		GraphClient: requireBuilt<Pick<Built, 'GraphClient'>>(dir, GRAPH_CLIENT_FILE).GraphClient,
		getManyPresences: requireBuilt<Pick<Built, 'getManyPresences'>>(
			dir,
			'nodes/shared/graph/presence.js',
		).getManyPresences,
		indexById: requireBuilt<Pick<Built, 'indexById'>>(dir, 'nodes/shared/presence/presence.js')
			.indexById,
	};
}
