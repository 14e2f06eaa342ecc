/** The package version, reported by `/health`. Kept in step with package.json by tests. */
export const VERSION = "0.1.0";
