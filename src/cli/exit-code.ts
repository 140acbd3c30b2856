/** Commands that finish without throwing but must still fail (lint errors, a failed source) set this. */
let pending = 0;

export function setExitCode(code: number): void {
  pending = Math.max(pending, code);
}

export function takeExitCode(): number {
  const code = pending;
  pending = 0;
  return code;
}
