export {
  RULES,
  isRuleCode,
  type Diagnostic,
  type RuleCode,
  type RuleSetting,
  type Severity,
  type ValidateOptions,
} from './types';
export { RecordValidator, validateText } from './validator';
export {
  validateFile,
  DEFAULT_MAX_DIAGNOSTICS,
  type ValidateFileOptions,
  type ValidateFileResult,
} from './file';
export { validateRecords } from './records';
export { UnfinishedError, MAX_LINE_BYTES } from './lines';
export { findSyntaxError, locate, parsePointer, toPointer, type Span, type SyntaxProblem } from './locate';
export { BUILTIN_SCHEMAS, FORMAT_IDS, builtinValidator, customValidator } from './schemas';
