// Colours for classes on a map: a class whose name starts with a colour word ("red-circle-bounce/…", the
// synthetic world's names) is drawn in that colour, so that the legend never contradicts the name (a
// "red-circle" drawn blue reads as a mistake); every other class takes the next palette colour that no
// named class already uses.
import { PALETTE } from './svg-plot.js';

/**
 * CSS colour keywords → the shade drawn for them: the palette's own entry where it has one (Tableau 10), so
 * a palette colour is never shared by a named class and an unnamed one; white and yellow are darkened to
 * show on the page's white background.
 */
const COLOUR_WORDS: Record<string, string> = {
  red: '#e15759',
  orange: '#f28e2b',
  yellow: '#edc948',
  gold: '#d4a017',
  green: '#59a14f',
  lime: '#8cd23c',
  olive: '#8c8c3a',
  teal: '#76b7b2',
  cyan: '#17becf',
  aqua: '#17becf',
  blue: '#4e79a7',
  navy: '#1f3b73',
  purple: '#b07aa1',
  violet: '#9467bd',
  magenta: '#c51bb5',
  fuchsia: '#c51bb5',
  pink: '#ff9da7',
  brown: '#9c755f',
  maroon: '#7f1d1d',
  khaki: '#bdb76b',
  grey: '#bab0ac',
  gray: '#bab0ac',
  silver: '#a8a8a8',
  black: '#333333',
  white: '#d9d9d9',
};

/** The colour word a class name starts with ("red-circle" → "red", "Light blue" → none, "redundant" → none). */
export function leadingColourWord(name: string): string | null {
  const first = name.trim().split(/[^a-zA-Z]+/)[0]?.toLowerCase() ?? '';
  return Object.hasOwn(COLOUR_WORDS, first) ? first : null;
}

/** `hex` mixed towards black (amount < 0) or white (amount > 0): a second class of the same colour word. */
function shade(hex: string, amount: number): string {
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const target = amount < 0 ? 0 : 255;
  return `#${rgb.map((c) => Math.round(c + (target - c) * Math.abs(amount)).toString(16).padStart(2, '0')).join('')}`;
}

/** Shades for the 2nd, 3rd, … class sharing one colour word: darker, lighter, then further. */
const SHADES = [-0.35, 0.35, -0.55, 0.55];

/** One colour per class name, in the order given. */
export function classColours(names: string[]): string[] {
  const out: string[] = new Array(names.length);
  const used = new Set<string>();
  const seenWord = new Map<string, number>();
  names.forEach((name, i) => {
    const word = leadingColourWord(name);
    if (word === null) return;
    const base = COLOUR_WORDS[word];
    const nth = seenWord.get(word) ?? 0;
    seenWord.set(word, nth + 1);
    out[i] = nth === 0 ? base : shade(base, SHADES[(nth - 1) % SHADES.length]);
    used.add(base);
  });
  // The rest cycle through the palette, skipping colours the named classes took (repeating once it runs out).
  const free = PALETTE.filter((c) => !used.has(c));
  const pool = free.length ? free : PALETTE;
  let next = 0;
  names.forEach((_, i) => {
    if (out[i] === undefined) out[i] = pool[next++ % pool.length];
  });
  return out;
}
