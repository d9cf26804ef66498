/**
 * Unit tests for the test-server plumbing: the parts that can be checked
 * without starting a JVM (the broker itself is covered by
 * test/integration/kafka-smoke.test.ts).
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomClusterId, renderServerProperties } from '../../../engine/dev/servers/kafka-config.ts';
import { renderPom } from '../../../engine/dev/servers/maven.ts';
import { isPortFree, pickPort } from '../../../engine/dev/servers/ports.ts';
import { MissingToolError, requireJava, requireMaven } from '../../../engine/dev/servers/prerequisites.ts';
import { checkPrerequisites } from '../../../engine/dev/servers/install-all.ts';

function parseProperties(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)] as const;
    });
  return new Map(entries);
}

describe('renderServerProperties', () => {
  const props = parseProperties(
    renderServerProperties({ host: '127.0.0.1', port: 19092, controllerPort: 19093, logDir: '/tmp/x/kraft' }),
  );

  it('configures a combined KRaft node on loopback', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(props.get('log.dirs')).toBe('/tmp/x/kraft');
  });

  it('makes every internal topic satisfiable by one node, so transactions work', () => {
    for (const key of [
      'default.replication.factor',
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'min.insync.replicas',
    ]) {
      expect(props.get(key), key).toBe('1');
    }
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(props.get('num.partitions')).toBe('4');
    expect(props.get('auto.create.topics.enable')).toBe('true');
  });
});

describe('randomClusterId', () => {
  it('is a Kafka Uuid: 16 bytes as unpadded base64url, no leading dash', () => {
    const ids = new Set(Array.from({ length: 500 }, () => randomClusterId()));
    expect(ids.size).toBe(500);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });
});

describe('pickPort', () => {
  it('returns the preferred port when it is free, another one when it is taken', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
    try {
      const taken = (server.address() as net.AddressInfo).port;
      expect(await isPortFree(taken)).toBe(false);
      const other = await pickPort(taken);
      expect(other).not.toBe(taken);
      expect(await isPortFree(other)).toBe(true);
      expect(await pickPort(other)).toBe(other);
      expect(await pickPort(other, new Set([other]))).not.toBe(other);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('renderPom', () => {
  it('lists each artifact as a dependency', () => {
    const pom = renderPom([{ groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: '3.9.1' }]);
    expect(pom).toContain('<artifactId>kafka_2.13</artifactId>');
    expect(pom).toContain('<version>3.9.1</version>');
  });
});

describe('missing tools', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('says what is missing and how to install it', async () => {
    vi.stubEnv('JAVA_HOME', '/nonexistent/jdk');
    const error = await requireJava().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as Error).message).toMatch(/Java 11\+ is required/);
    expect((error as Error).message).toMatch(/apt-get install -y openjdk-17/);
    expect((error as Error).message).toContain('/nonexistent/jdk/bin/java');
  });

  it('names Maven when mvn is not on PATH', async () => {
    vi.stubEnv('PATH', '/nonexistent');
    const error = await requireMaven().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as Error).message).toMatch(/Maven is required/);
    expect((error as Error).message).toMatch(/apt-get install -y maven/);
  });

  it('checks every prerequisite before installing anything, and names each missing one', async () => {
    // An empty cache needs Maven (jars), Go (builds) and apt-get (Prometheus);
    // with nothing on PATH and no JDK, every one of them is named at once.
    vi.stubEnv('SLUICE_CACHE_DIR', await mkdtemp(join(tmpdir(), 'sluice-empty-cache-')));
    vi.stubEnv('PATH', '/nonexistent');
    vi.stubEnv('JAVA_HOME', '/nonexistent/jdk');
    vi.stubEnv('SLUICE_PG_BINDIR', '/nonexistent/pg');
    const error = await checkPrerequisites().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MissingToolError);
    const message = (error as Error).message;
    for (const name of [/Java 11\+ is required/, /Maven is required/, /`go` was not found/, /PostgreSQL/, /apt-get is needed/]) expect(message).toMatch(name);
    // Nothing was downloaded into the empty cache.
    expect(await readdir(process.env.SLUICE_CACHE_DIR!)).toEqual([]);
  });
});
