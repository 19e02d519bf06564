import type { INodePropertyOptions } from 'n8n-workflow';

import { DURATIONS, PREFERRED_DURATIONS } from '../../../shared/presence/writeRules';

const LABELS: Record<string, string> = {
	InACall: 'In a Call',
	InAConferenceCall: 'In a Conference Call',
	DoNotDisturb: 'Do Not Disturb',
	BeRightBack: 'Be Right Back',
	OffWork: 'Off Work',
};

/** Dropdown entries for availability/activity pairs: "Busy/InACall" shown as "Busy — In a Call". */
export function pairOptions(pairs: readonly string[]): INodePropertyOptions[] {
	const words = (text: string) => LABELS[text] ?? text.replace(/([a-z])([A-Z])/g, '$1 $2');
	return pairs.map((pair) => {
		const [availability, activity] = pair.split('/');
		return {
			name:
				availability === activity
					? words(availability)
					: `${words(availability)} — ${words(activity)}`,
			value: pair,
		};
	});
}

const DURATION_NAMES: Record<string, string> = {
	PT5M: '5 Minutes',
	PT10M: '10 Minutes',
	PT15M: '15 Minutes',
	PT30M: '30 Minutes',
	PT1H: '1 Hour',
	PT2H: '2 Hours',
	PT3H: '3 Hours',
	PT4H: '4 Hours',
	PT8H: '8 Hours',
	PT12H: '12 Hours',
	P1D: '1 Day',
	P2D: '2 Days',
	P7D: '7 Days',
};

export const durationOptions: INodePropertyOptions[] = DURATIONS.map((value) => ({
	name: DURATION_NAMES[value],
	value,
}));

export const preferredDurationOptions: INodePropertyOptions[] = PREFERRED_DURATIONS.map(
	(value) => ({ name: DURATION_NAMES[value], value }),
);
