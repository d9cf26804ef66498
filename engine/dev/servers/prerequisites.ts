/**
 * The external tools the Kafka broker needs. When one is missing we fail with
 * a message that says which and how to install it: a silently skipped
 * integration suite looks exactly like a passing one.
 */
import { join } from 'node:path';
import { runCommand } from './process.ts';

/** Kafka 3.9 brokers run on Java 11+; 17 is what CI uses. */
const MIN_JAVA = 11;

const JAVA_HINT =
  'Install a JDK 17, e.g. `apt-get install -y openjdk-17-jdk-headless` (Debian/Ubuntu), ' +
  '`brew install openjdk@17` (macOS) or from https://adoptium.net, and put `java` on PATH or set JAVA_HOME.';

const MAVEN_HINT =
  'Install Apache Maven 3.6+, e.g. `apt-get install -y maven` (Debian/Ubuntu), `brew install maven` (macOS) ' +
  'or from https://maven.apache.org/download.cgi, and put `mvn` on PATH. ' +
  'Maven is only needed to download the Kafka jars once into the cache.';

export class MissingToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingToolError';
  }
}

/** The java executable: JAVA_HOME's when set, as in Kafka's own scripts, else the one on PATH. */
export function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Path of the java executable, checked to run and to be recent enough. */
export async function requireJava(): Promise<string> {
  const java = javaBinary();
  const result = await runCommand(java, ['-version'], { timeoutMs: 30_000 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'EACCES') return undefined;
    throw error;
  });
  if (!result || result.code !== 0) {
    const where = process.env.JAVA_HOME ? `at ${java} (from JAVA_HOME)` : 'on PATH';
    throw new MissingToolError(`Java ${MIN_JAVA}+ is required to run the Kafka broker for the integration tests, but \`java\` was not found ${where}. ${JAVA_HINT}`);
  }
  // `java -version` prints to stderr: openjdk version "17.0.15" 2025-04-15 (or "1.8.0_412").
  const match = /version "(\d+)(?:\.(\d+))?/.exec(result.stderr + result.stdout);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : undefined;
  if (major !== undefined && major < MIN_JAVA) {
    throw new MissingToolError(`Java ${MIN_JAVA}+ is required to run Kafka 3.9, but \`${java}\` is Java ${major}. ${JAVA_HINT}`);
  }
  return java;
}

/** Path of the mvn executable. */
export async function requireMaven(): Promise<string> {
  const mvn = process.platform === 'win32' ? 'mvn.cmd' : 'mvn';
  const result = await runCommand(mvn, ['-B', '-v'], { timeoutMs: 60_000 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'EACCES') return undefined;
    throw error;
  });
  if (!result || result.code !== 0) {
    const detail = result ? ` (\`mvn -v\` failed: ${(result.stderr || result.stdout).trim().split('\n')[0]})` : '';
    throw new MissingToolError(`Maven is required to download the Kafka broker jars from Maven Central, but \`mvn\` was not found on PATH${detail}. ${MAVEN_HINT}`);
  }
  return mvn;
}
