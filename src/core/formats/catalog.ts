import type { FormatId } from '../model';

/** Every format Parrot Studio reads and writes. */
export const FORMATS: Record<FormatId, { title: string; preference: boolean; description: string }> = {
  sharegpt: {
    title: 'ShareGPT / FastChat',
    preference: false,
    description:
      '`conversations`: [{from, value}] with from = human | gpt | system | function_call | observation; optional `system`, `tools`, `id`.',
  },
  openai: {
    title: 'OpenAI chat fine-tuning',
    preference: false,
    description:
      '`messages`: [{role, content}] where content is a string or text/image parts; optional `weight`, `name`, `tool_calls`, `tool_call_id`; top-level `tools`.',
  },
  'llamafactory-v1': {
    title: 'LLaMA-Factory v1',
    preference: false,
    description: '`messages`: [{role, content: [{type, value}], loss_weight}].',
  },
  alpaca: {
    title: 'Alpaca',
    preference: false,
    description:
      '`instruction`, `input`, `output`, optional `system` and `history`: [[question, answer], …].',
  },
  'mt-bench': {
    title: 'MT-Bench questions',
    preference: false,
    description: '`question_id`, `category`, `turns`: [user question, …], optional `reference`.',
  },
  'trl-preference': {
    title: 'TRL preference',
    preference: true,
    description:
      '`prompt` (optional: implicit prompt = shared prefix), `chosen`, `rejected`; each a list of messages or a string.',
  },
  'openai-preference': {
    title: 'OpenAI preference fine-tuning',
    preference: true,
    description:
      '`input`: {messages, tools?}, `preferred_output`: [message], `non_preferred_output`: [message].',
  },
  'sharegpt-preference': {
    title: 'LLaMA-Factory ShareGPT preference',
    preference: true,
    description:
      '`conversations` (the prompt) plus single-message `chosen` and `rejected` objects {from, value}.',
  },
  'llamafactory-v1-preference': {
    title: 'LLaMA-Factory v1 preference',
    preference: true,
    description:
      '`chosen_messages` and `rejected_messages`: full conversations sharing the prompt as a prefix.',
  },
  'trl-kto': {
    title: 'TRL unpaired preference (KTO)',
    preference: false,
    description:
      '`prompt`, `completion` (strings or lists of messages) and a boolean `label`: whether the completion is desirable.',
  },
  'llamafactory-kto': {
    title: 'LLaMA-Factory KTO',
    preference: false,
    description:
      '`messages` [{role, content}] (or ShareGPT `conversations`) whose last message is the completion, plus a boolean `label` (`kto_tag`).',
  },
  'trl-prompt-completion': {
    title: 'TRL prompt–completion',
    preference: false,
    description: '`prompt` and `completion`: strings (standard) or lists of messages (conversational).',
  },
  'trl-stepwise': {
    title: 'TRL stepwise supervision',
    preference: false,
    description:
      '`prompt` (string), `completions` (the reasoning steps) and `labels` (one boolean per step).',
  },
};

export const FORMAT_IDS = Object.keys(FORMATS) as FormatId[];
