/**
 * The instants a JavaScript Date can hold: ±100,000,000 days around 1970 (ECMA-262 21.4.1.22).
 * A time beyond them is no time at all (formatting it throws; 400 digits read as Infinity), so
 * inputs that would produce one are refused where they enter.
 */
export const MAX_DATE_MS = 8.64e15;
