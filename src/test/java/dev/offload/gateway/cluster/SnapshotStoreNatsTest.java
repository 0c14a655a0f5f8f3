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
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SnapshotStore} against a real {@code nats-server} (a 3-node JetStream cluster, R3 buckets, no Quarkus): a
 * snapshot uploaded while writes go on installs into an empty directory as the same index; a
 * damaged newest snapshot is refused for the next older one; snapshots the stream can no longer
 * complete, of another model or past the stream are skipped; pruning keeps the newest K; the
 * retention rule; the download streamed into the unpack: a truncated object and one whose first
 * entry is refused while megabytes are still arriving are refused, nothing installed, no
 * download left hanging, no archive left on disk.
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

    @Test
    void anUploadsReadsFillTheChunkWhateverPaceTheArchiveIsWrittenAt() throws Exception {
        byte[] data = new byte[10_000];
        new Random(9).nextBytes(data);
        // A source that hands out at most 7 bytes a read, as a pipe does when its writer is slow.
        ByteArrayInputStream bytes = new ByteArrayInputStream(data);
        InputStream trickle = new InputStream() {
            @Override
            public int read() {
                return bytes.read();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return bytes.read(b, off, Math.min(len, 7));
            }
        };
        assertEquals(7, trickle.read(new byte[4096]), "the source alone: short reads");
        InputStream full = SnapshotStore.fullReads(trickle);
        byte[] chunk = new byte[4096];
        assertEquals(4096, full.read(chunk));
        assertEquals(4096, full.read(chunk));
        assertEquals(10_000 - 7 - 8192, full.read(chunk), "the rest, at the end");
        assertEquals(-1, full.read(chunk));
        assertEquals(0, full.read(chunk, 0, 0));
    }

    @Test
    void aTruncatedObjectAndOneRefusedAtItsFirstEntryAreSkippedWhileTheDownloadStreams() throws Exception {
        SnapshotStore s = store("SNAP_C");
        long good;
        List<List<String>> answers;
        try (HybridIndex index = SnapshotFixtures.open(dir.resolve("g"))) {
            SnapshotFixtures.ingest(index, 0, 30, new Random(5));
            try (CommittedIndex c = index.captureCommit()) {
                good = s.upload(c, SnapshotFixtures.MODEL, "g").sequence();
            }
            answers = SnapshotFixtures.answers(index);
        }
        ObjectStore os = connection.objectStore("SNAP_C");
        ObjectInfo info = os.getInfo(SnapshotStore.objectName(good));
        assertEquals(SnapshotStore.UPLOAD_CHUNK, s.chunkSize(), "under the server's 1 MB largest message");
        assertEquals(SnapshotStore.UPLOAD_CHUNK, info.getObjectMeta().getObjectMetaOptions().getChunkSize(),
                "uploaded in chunks of " + SnapshotStore.UPLOAD_CHUNK + " bytes: a quarter of jnats' default round trips");
        assertEquals((info.getSize() + SnapshotStore.UPLOAD_CHUNK - 1) / SnapshotStore.UPLOAD_CHUNK, info.getChunks());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        s.download(info.getObjectName(), bytes);
        byte[] archive = bytes.toByteArray();
        // Newer, cut in half: the manifest (the last entry) never arrives.
        put(os, info, good + 10, java.util.Arrays.copyOf(archive, archive.length / 2));
        // Newest: a first entry outside lucene/ and graph/, then 8 MB (8 pipe buffers) still to come when it is refused.
        ByteArrayOutputStream evil = new ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(evil)) {
            zip.putNextEntry(new java.util.zip.ZipEntry("../escaped"));
            byte[] noise = new byte[8 << 20];
            new Random(1).nextBytes(noise);
            zip.write(noise);
            zip.closeEntry();
        }
        put(os, info, good + 20, evil.toByteArray());

        List<String> refusals = new ArrayList<>();
        Path target = dir.resolve("h");
        SnapshotStore.Installed got = assertTimeoutPreemptively(Duration.ofMinutes(2),
                () -> install(s, target, 1, good + 20, refusals).orElseThrow(), "a refused download does not hang");
        assertEquals(good, got.manifest().sequence(), "the only sound one");
        assertEquals(2, refusals.size(), refusals.toString());
        assertTrue(refusals.get(0).contains(SnapshotStore.objectName(good + 20)) && refusals.get(0).contains("unexpected entry ../escaped"),
                refusals.get(0));
        assertTrue(refusals.get(1).contains(SnapshotStore.objectName(good + 10)), refusals.get(1));
        assertFalse(Files.exists(target.resolve("escaped")) || Files.exists(dir.resolve("escaped")), "nothing escaped");
        assertFalse(Files.exists(target.resolve("bootstrap")), "the staging directory is removed");
        assertTrue(got.transferMillis() <= got.millis() && got.installMillis() <= got.millis(), got.toString());
        try (HybridIndex copy = SnapshotFixtures.open(target)) {
            assertEquals(good, copy.lastSequence());
            assertEquals(answers, SnapshotFixtures.answers(copy));
        }
    }

    private static void put(ObjectStore os, ObjectInfo like, long sequence, byte[] archive) throws Exception {
        io.nats.client.impl.Headers h = new io.nats.client.impl.Headers(like.getHeaders())
                .put(SnapshotStore.H_SEQUENCE, Long.toString(sequence));
        os.put(ObjectMeta.builder(SnapshotStore.objectName(sequence)).headers(h).build(), new ByteArrayInputStream(archive));
    }
}
