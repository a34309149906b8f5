/**
 * A mistake in how a streamqc program was started (a flag, an environment variable): the
 * process ends with exit code 2 and the message, which names the flag, the value and what is
 * allowed. One class for the analyzer's CLI and the operator.
 */
export class UsageError extends Error {}
