/**
 * Which value of a restricted setting applies, given the workspace's trust. No `vscode` import, so
 * the rule can be tested on its own.
 */

/** The parts of `WorkspaceConfiguration.inspect()` this needs. */
export interface InspectedValue<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/**
 * The value of a setting that an untrusted workspace must not control (the endpoint URL, template
 * files, output paths): in an untrusted workspace, workspace and folder values are ignored and the
 * user's own (global) value or the default applies. VS Code does the same for settings listed in
 * `capabilities.untrustedWorkspaces.restrictedConfigurations`; this is the second lock on the door.
 */
export function trustedValue<T>(inspected: InspectedValue<T> | undefined, trusted: boolean): T | undefined {
  if (!inspected) return undefined;
  if (trusted) {
    return (
      inspected.workspaceFolderValue ??
      inspected.workspaceValue ??
      inspected.globalValue ??
      inspected.defaultValue
    );
  }
  return inspected.globalValue ?? inspected.defaultValue;
}

/** True when a workspace-level value was set but ignored because the workspace is not trusted. */
export function ignoredWorkspaceValue<T>(
  inspected: InspectedValue<T> | undefined,
  trusted: boolean,
): boolean {
  return (
    !trusted &&
    !!inspected &&
    (inspected.workspaceFolderValue !== undefined || inspected.workspaceValue !== undefined)
  );
}
