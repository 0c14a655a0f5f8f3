package dev.offload.gateway.retrieval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IndexModelRecordTest {
    @TempDir
    Path dir;

    @Test
    void aNewIndexRecordsItsModelAndTheSameModelOpensIt() throws Exception {
        IndexModelRecord.check(dir, "e5-small-v2-q", 384);
        assertTrue(Files.readString(dir.resolve(IndexModelRecord.FILE)).contains("model=e5-small-v2-q"));
        assertDoesNotThrow(() -> IndexModelRecord.check(dir, "e5-small-v2-q", 384));
    }

    @Test
    void anotherModelIsRefusedNamingBothAndTheKey() {
        IndexModelRecord.check(dir, "e5-small-v2-q", 384);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> IndexModelRecord.check(dir, "bge-small-en-v1.5-q", 384));
        assertTrue(e.getMessage().contains("e5-small-v2-q") && e.getMessage().contains("bge-small-en-v1.5-q")
                && e.getMessage().contains("gateway.embedding.model"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> IndexModelRecord.check(dir, "e5-small-v2-q", 768));
    }

    @Test
    void anIndexFromBeforeTheRecordIsTheOldDefaultModel() throws Exception {
        Files.createDirectories(dir.resolve("lucene"));
        assertThrows(IllegalStateException.class, () -> IndexModelRecord.check(dir, "e5-small-v2-q", 384));
        assertDoesNotThrow(() -> IndexModelRecord.check(dir, IndexModelRecord.LEGACY_MODEL, 384));
        assertTrue(Files.isRegularFile(dir.resolve(IndexModelRecord.FILE)), "recorded once accepted");
    }

    @Test
    void otherFilesInAFreshDirectoryAreNotAnIndex() throws Exception {
        // A fresh volume's lost+found, a keys file: the directory holds no index, so any model may start on it.
        Files.createDirectories(dir.resolve("lost+found"));
        Files.writeString(dir.resolve("keys"), "x");
        assertDoesNotThrow(() -> IndexModelRecord.check(dir, "bge-small-en-v1.5-q", 384));
        assertThrows(IllegalStateException.class, () -> IndexModelRecord.check(dir, IndexModelRecord.LEGACY_MODEL, 384),
                "recorded as bge from then on");
    }
}
