package dev.offload.gateway.cluster;

import dev.offload.gateway.retrieval.CommittedIndex;
import dev.offload.gateway.retrieval.HybridIndex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The snapshot archive on a real index: a held commit survives later writes, commits and
 * compaction; its archive unpacks into an index that answers exactly as the original did at that
 * commit; every kind of damage is refused with its reason.
 */
class SnapshotArchiveTest {
    @TempDir
    Path dir;

    @Test
    void anArchiveOfAHeldCommitOpensAsTheSameIndexAlthoughWritesWentOnWhileItWasWritten() throws Exception {
        Random r = new Random(20261202);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<List<String>> atCommit;
        long seq;
        SnapshotArchive.Manifest written;
        try (HybridIndex index = SnapshotFixtures.open(dir.resolve("a"))) {
            SnapshotFixtures.ingest(index, 0, 120, r);
            try (CommittedIndex commit = index.captureCommit()) {
                seq = commit.sequence();
                atCommit = SnapshotFixtures.answers(index);
                assertTrue(commit.files().stream().anyMatch(f -> f.name().startsWith("graph/")), "the graph is in the commit");
                // Writes, deletes, commits and compaction while the commit is held: its files must not change.
                SnapshotFixtures.ingest(index, 120, 200, r);
                for (int d = 0; d < 40; d++) {
                    index.delete(SnapshotFixtures.TENANT, "d" + d);
                }
                index.compact();
                index.commit();
                written = SnapshotArchive.write(commit, SnapshotFixtures.MODEL, "a", 1L, bytes);
            }
            assertTrue(index.lastSequence() > seq);
        }
        assertEquals(120, seq, "one batch per document");
        Path unpacked = dir.resolve("unpacked");
        SnapshotArchive.Manifest read = SnapshotArchive.unpack(new ByteArrayInputStream(bytes.toByteArray()), unpacked,
                SnapshotFixtures.MODEL, SnapshotFixtures.DIM);
        assertEquals(written, read);
        Path b = Files.createDirectories(dir.resolve("b"));
        HybridIndex.installSnapshot(b, unpacked);
        assertEquals(seq, HybridIndex.committedSequence(b));
        try (HybridIndex copy = SnapshotFixtures.open(b)) {
            assertEquals(seq, copy.lastSequence());
            assertEquals(120, copy.stats(null).documents());
            assertTrue(copy.graphSource().startsWith("opened from"), copy.graphSource());
            assertEquals(atCommit, SnapshotFixtures.answers(copy));
        }
    }

    private byte[] archive() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (HybridIndex index = SnapshotFixtures.open(dir.resolve("src"))) {
            SnapshotFixtures.ingest(index, 0, 30, new Random(1));
            try (CommittedIndex commit = index.captureCommit()) {
                SnapshotArchive.write(commit, SnapshotFixtures.MODEL, "src", 1L, bytes);
            }
        }
        return bytes.toByteArray();
    }

    private String refusal(byte[] archive, String model, int dimension) {
        Path target = dir.resolve("t" + System.nanoTime());
        return assertThrows(IOException.class,
                () -> SnapshotArchive.unpack(new ByteArrayInputStream(archive), target, model, dimension)).getMessage();
    }

    @Test
    void aDamagedFileAnotherModelOrDimensionAMissingManifestAndAnEscapingNameAreRefused() throws Exception {
        byte[] good = archive();
        String damaged = refusal(SnapshotFixtures.damaged(good), SnapshotFixtures.MODEL, SnapshotFixtures.DIM);
        assertTrue(damaged.contains("fails its checksum"), damaged);
        String model = refusal(good, "other-model", SnapshotFixtures.DIM);
        assertTrue(model.contains("test-model") && model.contains("other-model"), model);
        String dim = refusal(good, SnapshotFixtures.MODEL, 384);
        assertTrue(dim.contains("16 dimensions"), dim);
        String truncated = refusal(java.util.Arrays.copyOf(good, good.length / 2), SnapshotFixtures.MODEL, SnapshotFixtures.DIM);
        assertTrue(truncated.contains("MANIFEST") || truncated.contains("EOF") || truncated.contains("Unexpected"), truncated);

        ByteArrayOutputStream evil = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(evil)) {
            zip.putNextEntry(new ZipEntry("lucene/../../keys"));
            zip.write(1);
            zip.closeEntry();
        }
        String escape = refusal(evil.toByteArray(), SnapshotFixtures.MODEL, SnapshotFixtures.DIM);
        assertTrue(escape.contains("unexpected entry"), escape);
        assertTrue(Files.notExists(dir.resolve("keys")));
    }
}
