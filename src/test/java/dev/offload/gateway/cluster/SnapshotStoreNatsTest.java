package dev.offload.gateway.cluster;

import dev.offload.gateway.retrieval.CommittedIndex;
import dev.offload.gateway.retrieval.HybridIndex;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.ObjectStore;
import io.nats.client.Options;
import io.nats.client.api.ObjectInfo;
import io.nats.client.api.ObjectMeta;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SnapshotStore} against a real {@code nats-server} (a 3-node JetStream cluster, R3 buckets, no Quarkus): a
 * snapshot uploaded while writes go on installs into an empty directory as the same index; a
 * damaged newest snapshot is refused for the next older one; snapshots the stream can no longer
 * complete, of another model or past the stream are skipped; pruning keeps the newest K; the
 * retention rule.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SnapshotStoreNatsTest {
    private Path dir;
    private NatsTestCluster nats;
    private Connection connection;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("snapshot-store");
        nats = new NatsTestCluster(dir.resolve("nats"), 3); // JetStream clustering needs routes: no 1-node cluster
        connection = Nats.connect(Options.builder().servers(nats.urls().split(",")).connectionTimeout(Duration.ofSeconds(2))
                .errorListener(new io.nats.client.ErrorListener() {
                }).build());
    }

    @AfterAll
    void stop() throws Exception {
        if (connection != null) {
            connection.close();
        }
        if (nats != null) {
            nats.close();
        }
    }

    private SnapshotStore store(String bucket) {
        return new SnapshotStore(() -> connection, bucket, 3);
    }

    private static Optional<SnapshotStore.Installed> install(SnapshotStore s, Path target, long first, long last,
                                                           List<String> refusals) throws Exception {
        return s.install(Files.createDirectories(target), 0, first, last, SnapshotFixtures.MODEL, SnapshotFixtures.DIM, refusals);
    }

    @Test
    void theNewestSnapshotInstallsIntoAnEmptyDirectoryAndADamagedOneFallsBackToTheOlder() throws Exception {
        SnapshotStore s = store("SNAP_A");
        Random r = new Random(20261202);
        List<List<String>> atFirst;
        List<List<String>> atSecond;
        long first;
        long second;
        try (HybridIndex index = SnapshotFixtures.open(dir.resolve("a"))) {
            SnapshotFixtures.ingest(index, 0, 60, r);
            try (CommittedIndex c = index.captureCommit()) {
                first = s.upload(c, SnapshotFixtures.MODEL, "a").sequence();
            }
            atFirst = SnapshotFixtures.answers(index);
            SnapshotFixtures.ingest(index, 60, 100, r);
            try (CommittedIndex c = index.captureCommit()) {
                SnapshotFixtures.ingest(index, 100, 110, r); // writes while the upload runs are not in it
                second = s.upload(c, SnapshotFixtures.MODEL, "a").sequence();
            }
            index.commit();
            index.close();
            try (HybridIndex again = SnapshotFixtures.open(dir.resolve("a"))) {
                assertEquals(110, again.lastSequence());
            }
        }
        assertEquals(60, first);
        assertEquals(100, second);
        List<SnapshotStore.Stored> listed = s.list();
        assertEquals(List.of(second, first), listed.stream().map(SnapshotStore.Stored::sequence).toList());
        assertEquals(SnapshotFixtures.MODEL, listed.get(0).model());

        List<String> refusals = new ArrayList<>();
        Path b = dir.resolve("b");
        SnapshotStore.Installed got = install(s, b, 1, 110, refusals).orElseThrow();
        assertEquals(second, got.manifest().sequence());
        assertTrue(refusals.isEmpty(), refusals.toString());
        try (HybridIndex copy = SnapshotFixtures.open(b)) {
            assertEquals(second, copy.lastSequence());
            assertEquals(100, copy.stats(null).documents());
            atSecond = SnapshotFixtures.answers(copy);
        }
        assertFalse(Files.exists(b.resolve("bootstrap")), "the staging directory is removed");

        // Damage the newest in the store (same name, same headers, one byte of a Lucene file flipped).
        ObjectStore os = connection.objectStore("SNAP_A");
        ObjectInfo info = os.getInfo(SnapshotStore.objectName(second));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        s.download(info.getObjectName(), bytes);
        os.put(ObjectMeta.builder(info.getObjectName()).headers(info.getHeaders()).build(),
                new ByteArrayInputStream(SnapshotFixtures.damaged(bytes.toByteArray())));
        Path c = dir.resolve("c");
        SnapshotStore.Installed older = install(s, c, 1, 110, refusals).orElseThrow();
        assertEquals(first, older.manifest().sequence(), "the next older snapshot");
        assertEquals(1, refusals.size(), refusals.toString());
        assertTrue(refusals.get(0).contains(SnapshotStore.objectName(second)) && refusals.get(0).contains("fails its checksum"),
                refusals.get(0));
        try (HybridIndex copy = SnapshotFixtures.open(c)) {
            assertEquals(first, copy.lastSequence());
            assertEquals(atFirst, SnapshotFixtures.answers(copy));
        }
        assertFalse(atSecond.equals(atFirst), "the two snapshots differ, so the comparison above could fail");

        // Only the damaged one can complete from a stream that starts at 80: nothing is installed, the reasons say why.
        refusals.clear();
        Path d = dir.resolve("d");
        assertTrue(install(s, d, 80, 110, refusals).isEmpty());
        assertEquals(2, refusals.size(), refusals.toString());
        assertTrue(refusals.get(1).contains("the stream starts at 80"), refusals.get(1));
        assertEquals(0, HybridIndex.committedSequence(d), "nothing installed");
        // A stream whose last record is before both: they are another stream's.
        refusals.clear();
        assertTrue(install(s, dir.resolve("e"), 1, 50, refusals).isEmpty());
        assertTrue(refusals.get(0).contains("past the stream's last 50"), refusals.toString());
        // Another model: refused from the headers, without a download.
        refusals.clear();
        assertTrue(s.install(Files.createDirectories(dir.resolve("f")), 0, 1, 110, "other-model", SnapshotFixtures.DIM,
                refusals).isEmpty());
        assertTrue(refusals.get(0).contains("other-model"), refusals.toString());
    }

    @Test
    void pruningKeepsTheNewestKAndTheRetentionRuleWaitsForTheOldestKeptAndTheSlowestMember() throws Exception {
        SnapshotStore s = store("SNAP_B");
        try (HybridIndex index = SnapshotFixtures.open(dir.resolve("p"))) {
            Random r = new Random(3);
            for (int i = 0; i < 4; i++) {
                SnapshotFixtures.ingest(index, i * 5, i * 5 + 5, r);
                try (CommittedIndex c = index.captureCommit()) {
                    s.upload(c, SnapshotFixtures.MODEL, "p");
                }
            }
        }
        List<SnapshotStore.Stored> kept = s.prune(2);
        assertEquals(List.of(20L, 15L), kept.stream().map(SnapshotStore.Stored::sequence).toList());
        assertEquals(List.of(20L, 15L), s.list().stream().map(SnapshotStore.Stored::sequence).toList());

        assertEquals(1_000 + 1 - 100, SnapshotStore.retainFrom(1_000, 5_000, 100), "below the oldest kept snapshot");
        assertEquals(400 + 1 - 100, SnapshotStore.retainFrom(1_000, 400, 100), "a live member at 400 still needs 401");
        assertEquals(1_001, SnapshotStore.retainFrom(1_000, 1_000, 0));
        assertEquals(0, SnapshotStore.retainFrom(1_000, 0, 100), "a member that has applied nothing yet: no purge");
        assertEquals(0, SnapshotStore.retainFrom(1_000, -1, 100), "a member that does not report: no purge");
        assertEquals(0, SnapshotStore.retainFrom(1_000, 5_000, -1), "margin -1: never purge");
        assertEquals(0, SnapshotStore.retainFrom(50, 5_000, 100), "nothing below the margin");
    }
}
