/** Command-line options of the bench scripts: `--name VALUE` read from process.argv. */

/** The value after `--name` on the command line, or undefined when the flag is absent. */
export function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
