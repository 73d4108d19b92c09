// Small ShareGPT fixtures shared by the integration and end-to-end tests (no `vscode` import here).

/** One ShareGPT record: turns alternate human / gpt, starting with human. */
export function sharegpt(turns: readonly string[], id: string): string {
  return JSON.stringify({
    id,
    conversations: turns.map((value, i) => ({ from: i % 2 === 0 ? 'human' : 'gpt', value })),
  });
}

/** Three answered turns, the dialogue the inline-action tests generate CaPO negatives for. */
export const BAKERY_TURNS: readonly string[] = [
  'Suggest two names for a bakery.',
  '1. Rise & Shine 2. The Daily Crumb',
  'Write a slogan for a bike shop.',
  'Pedal into the future.',
  'Make the second name shorter.',
  'Daily Crumb.',
];
